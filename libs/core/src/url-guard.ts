import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { DomainError, ErrorCode } from './errors';
import type { UrlPolicy } from './config';

/**
 * Server-side request forgery guard for user-supplied URLs (BYOK base URLs, alert webhooks):
 * such URLs must not reach private, loopback, link-local or metadata addresses (DESIGN.md,
 * Tenancy and secrets). Two layers:
 * - `assertPublicUrl` at write time, for a clear 400 naming the field;
 * - `createGuardedAgent` at connect time: the agent resolves DNS itself, checks every address
 *   and connects to the checked address, so a name that re-resolves to 127.0.0.1 later (DNS
 *   rebinding) is still refused. Redirects are never followed (`guardedFetch`, `refuseRedirect`).
 * `allowPrivate` (ALLOW_PRIVATE_PROVIDER_URLS=true) turns the address checks off, not the
 * redirect refusal: a provider API never needs one.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS resolution, injectable so tests can play a rebinding resolver. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Refusal of a URL or connection; `code` lets HTTP clients tell it from a network failure. */
export class UrlGuardError extends Error {
  override name = 'UrlGuardError';
  readonly code = 'GW_URL_REFUSED';
  constructor(
    message: string,
    readonly reason: 'blocked_address' | 'unresolvable' | 'redirect' | 'invalid_url',
  ) {
    super(message);
  }
}

interface Range4 {
  base: number;
  bits: number;
  why: string;
}

const cidr4 = (text: string, why: string): Range4 => {
  const [ip, bits] = text.split('/');
  return { base: ipv4ToInt(ip!)!, bits: Number(bits), why };
};

// IANA special-purpose registry (RFC 6890 and successors): nothing here is a public API host.
const BLOCKED_V4: readonly Range4[] = [
  cidr4('0.0.0.0/8', 'the "this network" range'),
  cidr4('10.0.0.0/8', 'a private address'),
  cidr4('100.64.0.0/10', 'a carrier-grade NAT address'),
  cidr4('127.0.0.0/8', 'a loopback address'),
  cidr4('169.254.0.0/16', 'a link-local (cloud metadata) address'),
  cidr4('172.16.0.0/12', 'a private address'),
  cidr4('192.0.0.0/24', 'an IETF protocol address'),
  cidr4('192.0.2.0/24', 'a documentation address'),
  cidr4('192.88.99.0/24', 'a 6to4 relay address'),
  cidr4('192.168.0.0/16', 'a private address'),
  cidr4('198.18.0.0/15', 'a benchmarking address'),
  cidr4('198.51.100.0/24', 'a documentation address'),
  cidr4('203.0.113.0/24', 'a documentation address'),
  cidr4('224.0.0.0/4', 'a multicast address'),
  cidr4('240.0.0.0/4', 'a reserved address'),
];

/** Why an IP address may not be reached, or null when it is public. */
export function blockedAddressReason(ip: string): string | null {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(bare)) return reason4(ipv4ToInt(bare)!);
  const bytes = parseIPv6(bare);
  if (!bytes) return 'not an IP address';
  return reason6(bytes);
}

function reason4(n: number): string | null {
  for (const r of BLOCKED_V4) {
    const mask = r.bits === 0 ? 0 : (~0 << (32 - r.bits)) >>> 0;
    if (((n & mask) >>> 0) === ((r.base & mask) >>> 0)) return r.why;
  }
  return null;
}

function reason6(b: Uint8Array): string | null {
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const v4At = (i: number) => (((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
  const embedded = (i: number, kind: string) => {
    const r = reason4(v4At(i));
    return r ? `${kind} form of ${r}` : null;
  };
  if (zeros(0, 15) && b[15] === 0) return 'the unspecified address';
  if (zeros(0, 15) && b[15] === 1) return 'a loopback address';
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12, 'an IPv4-mapped');
  // ::a.b.c.d (IPv4-compatible, deprecated) and ::ffff:0:a.b.c.d (SIIT): no public host uses them.
  if (zeros(0, 12)) return 'an IPv4-compatible address';
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(10, 12)) return 'an IPv4-translated address';
  const w0 = (b[0]! << 8) | b[1]!;
  const w1 = (b[2]! << 8) | b[3]!;
  if (w0 === 0x64 && w1 === 0xff9b && zeros(4, 12)) return embedded(12, 'a NAT64');
  if (w0 === 0x64 && w1 === 0xff9b) return 'a local-use NAT64 address';
  if (w0 === 0x100 && zeros(2, 8)) return 'a discard-only address';
  if (w0 === 0x2001 && w1 === 0x0db8) return 'a documentation address';
  if (w0 === 0x2001 && w1 < 0x200) return 'an IETF protocol address (Teredo included)';
  if (w0 === 0x2002) return embedded(2, 'a 6to4');
  if (w0 === 0x3fff && w1 < 0x1000) return 'a documentation address';
  if ((b[0]! & 0xfe) === 0xfc) return 'a unique-local address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'a site-local address';
  if (b[0] === 0xff) return 'a multicast address';
  return null;
}

function ipv4ToInt(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** 16 bytes of an IPv6 address (zone id ignored, dotted IPv4 tail accepted), or null. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text.split('%')[0]!;
  if (isIP(s) !== 6) return null;
  const tail: number[] = [];
  if (s.includes('.')) {
    const colon = s.lastIndexOf(':');
    const n = ipv4ToInt(s.slice(colon + 1));
    if (n === null) return null;
    tail.push(n >>> 16, n & 0xffff);
    s = s.slice(0, colon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const gap = s.indexOf('::');
  let all: number[];
  if (gap === -1) {
    all = [...words(s), ...tail];
  } else {
    const left = words(s.slice(0, gap));
    const right = [...words(s.slice(gap + 2)), ...tail];
    const fill = 8 - left.length - right.length;
    if (fill < 0) return null;
    all = [...left, ...new Array<number>(fill).fill(0), ...right];
  }
  if (all.length !== 8 || all.some((w) => !(w >= 0 && w <= 0xffff))) return null;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/**
 * What a URL breaks of the operator's URL policy (PROVIDER_URL_HTTPS_ONLY, PROVIDER_URL_PORTS),
 * or null. Also used at start to list stored URLs written before the policy (they keep working).
 */
export function urlPolicyProblem(url: URL, policy: UrlPolicy): string | null {
  if (policy.httpsOnly && url.protocol !== 'https:') return 'must use https (PROVIDER_URL_HTTPS_ONLY)';
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (policy.ports && !policy.ports.has(port)) return `must not use port ${port}: allowed ${[...policy.ports].join(', ')} (PROVIDER_URL_PORTS)`;
  return null;
}

export interface UrlGuardOptions {
  /** ALLOW_PRIVATE_PROVIDER_URLS: skip the address checks (self-hosted models on a LAN). */
  allowPrivate: boolean;
  resolver?: HostResolver;
  /** PROVIDER_URL_HTTPS_ONLY / PROVIDER_URL_PORTS (write time only); absent: http(s), any port. */
  policy?: UrlPolicy;
}

/**
 * Write-time check of a user-supplied URL: http(s), no credentials, and a host whose every DNS
 * answer is a public address. Throws DomainError(InvalidBody) naming `param`. WHATWG parsing
 * first normalizes decimal (2130706433), octal (0177.0.0.1) and hex (0x7f.1) IPv4 forms.
 */
export async function assertPublicUrl(url: string, opts: UrlGuardOptions & { param?: string }): Promise<URL> {
  const param = opts.param ?? 'url';
  const bad = (message: string) => new DomainError(ErrorCode.InvalidBody, `${param} ${message}`, { param });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw bad('must use http or https');
  if (parsed.username || parsed.password) throw bad('must not contain credentials');
  if (!parsed.hostname) throw bad('must have a host');
  const problem = opts.policy ? urlPolicyProblem(parsed, opts.policy) : null;
  if (problem) throw bad(problem);
  if (opts.allowPrivate) return parsed;
  try {
    await resolvePublic(parsed.hostname, opts.resolver ?? systemResolver);
  } catch (e) {
    if (e instanceof UrlGuardError) throw bad(e.message);
    throw e;
  }
  return parsed;
}

/** Resolves a host and returns its first address, refusing the host if any answer is not public. */
export async function resolvePublic(hostname: string, resolver: HostResolver = systemResolver): Promise<ResolvedAddress> {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(host);
  if (family !== 0) {
    const why = blockedAddressReason(host);
    if (why) throw new UrlGuardError(`points to ${why}, which is not allowed (set ALLOW_PRIVATE_PROVIDER_URLS=true to allow)`, 'blocked_address');
    return { address: host, family };
  }
  let answers: ResolvedAddress[];
  try {
    answers = await resolver(host);
  } catch {
    throw new UrlGuardError('has a host name that does not resolve', 'unresolvable');
  }
  if (answers.length === 0) throw new UrlGuardError('has a host name that does not resolve', 'unresolvable');
  // Every answer, not just the first: a mixed answer set is how rebinding attacks hide.
  for (const a of answers) {
    const why = blockedAddressReason(a.address);
    if (why) throw new UrlGuardError(`resolves to ${why}, which is not allowed (set ALLOW_PRIVATE_PROVIDER_URLS=true to allow)`, 'blocked_address');
  }
  return answers[0]!;
}

export interface GuardedAgentOptions extends UrlGuardOptions {
  connectTimeoutMs?: number;
  /** Passed to undici's Agent (pool sizes, keep-alive). */
  agent?: Omit<Agent.Options, 'connect'>;
}

/**
 * An undici Agent whose connector resolves DNS itself and connects only to checked public
 * addresses (unless allowPrivate). TLS still verifies the certificate against the original host
 * name (undici derives `servername` from the URL's host, not from the address we dial).
 */
export function createGuardedAgent(opts: GuardedAgentOptions): Agent {
  const base = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 });
  const resolver = opts.resolver ?? systemResolver;
  const connect: buildConnector.connector = (options, callback) => {
    if (opts.allowPrivate) return base(options, callback);
    resolvePublic(options.hostname, resolver).then(
      (a) => base({ ...options, hostname: a.address }, callback),
      (e: unknown) => callback(e as Error, null),
    );
  };
  return new Agent({ ...opts.agent, connect });
}

/** Throws when a response is a redirect: user-supplied upstreams may not send us elsewhere. */
export function refuseRedirect(status: number): void {
  if (status >= 300 && status < 400) throw new UrlGuardError(`answered with a redirect (${status}), which is not followed`, 'redirect');
}

/** fetch through a guarded agent, never following redirects (a 3xx is a UrlGuardError). */
export async function guardedFetch(url: string, init: Omit<RequestInit, 'dispatcher' | 'redirect'>, agent: Agent): Promise<Response> {
  const res = await undiciFetch(url, { ...init, dispatcher: agent, redirect: 'manual' });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    refuseRedirect(res.status);
  }
  return res;
}

/** The guard error behind a failed fetch/request, if that is why it failed (undici wraps causes). */
export function urlGuardErrorOf(e: unknown): UrlGuardError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof UrlGuardError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
