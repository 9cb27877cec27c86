import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Agent, type Dispatcher } from 'undici';
import { APP_CONFIG, type AppConfig, BoundedMemo, DomainError, ErrorCode, createGuardedAgent, urlGuardErrorOf } from '@gw/core';
import type { UpstreamHttpRequest } from '@gw/llm';

export interface UpstreamTimeouts {
  firstByteMs?: number;
  idleMs?: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * The pooled keep-alive HTTP client every upstream call goes through. Connect, first-byte and
 * idle timeouts map to retryable DomainErrors; the signal aborts the upstream request at once
 * when the client goes away.
 */
@Injectable()
export class UpstreamClient implements OnModuleDestroy {
  private readonly agent: Agent;
  /** For tenants' own base URLs: connects only to public addresses (checked after DNS), no redirects. */
  private readonly guarded: Agent;
  /**
   * Origin and path of each upstream URL, parsed once: undici's top-level `request(url)` parses
   * the URL on every call (measured about 10 µs per request at one connection).
   */
  private readonly targets = new BoundedMemo<{ origin: string; path: string }>(10_000);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: 512,
      pipelining: 1,
      connect: { timeout: config.UPSTREAM_CONNECT_TIMEOUT_MS },
    });
    this.guarded = createGuardedAgent({
      allowPrivate: config.ALLOW_PRIVATE_PROVIDER_URLS,
      connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
      agent: { keepAliveTimeout: 30_000, connections: 128 },
    });
  }

  /**
   * `userSupplied`: the URL comes from a tenant (BYOK base URL) and goes through the guarded agent.
   * `timeouts` override the configured first-byte and idle timeouts (tenant or request settings).
   */
  async post(req: UpstreamHttpRequest, signal: AbortSignal, userSupplied = false, timeouts: UpstreamTimeouts = {}): Promise<UpstreamResponse> {
    try {
      const dispatcher = userSupplied ? this.guarded : this.agent;
      const { origin, path } = this.targets.get(req.url, () => {
        const u = new URL(req.url);
        return { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
      });
      const res = await dispatcher.request({
        origin,
        path,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal,
        headersTimeout: this.firstByteMs(timeouts),
        bodyTimeout: this.idleMs(timeouts),
      });
      if (userSupplied && res.statusCode >= 300 && res.statusCode < 400) {
        res.body.resume();
        throw new DomainError(ErrorCode.UpstreamError, 'The provider answered with a redirect, which is not followed', { retryable: false });
      }
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (e) {
      throw toUpstreamError(e);
    }
  }

  /**
   * A non-streamed answer's JSON, read up to UPSTREAM_MAX_RESPONSE_BYTES: a provider (or a
   * tenant's own endpoint) sending more is cut off, not buffered (reliability T50). A declared
   * length within the cap takes undici's own reader; an undeclared one is counted as it comes.
   */
  async readJson(res: UpstreamResponse, max = this.config.UPSTREAM_MAX_RESPONSE_BYTES): Promise<unknown> {
    const tooLarge = () => new DomainError(ErrorCode.UpstreamBadResponse, `The provider's answer exceeds ${max} bytes`, { retryable: true, meta: { reason: 'response_too_large' } });
    const declared = Number(res.headers['content-length']);
    if (declared > max) {
      res.body.destroy();
      throw tooLarge();
    }
    if (declared >= 0) return res.body.json();
    const { bytes, complete } = await readUpTo(res.body, max);
    if (!complete) throw tooLarge();
    return JSON.parse(bytes.toString('utf8')) as unknown;
  }

  /**
   * The start of an error answer (at most ERROR_BODY_BYTES, the rest discarded): only a short,
   * sanitised message is kept from it, and an endless error body must not be buffered.
   */
  async readErrorText(res: UpstreamResponse): Promise<string> {
    // A body that fails half-way still maps by its status.
    const { bytes } = await readUpTo(res.body, ERROR_BODY_BYTES).catch(() => ({ bytes: Buffer.alloc(0) }));
    return bytes.subarray(0, ERROR_BODY_BYTES).toString('utf8');
  }

  /** The first-byte timeout of a call: the request's or tenant's, else the platform's. */
  firstByteMs(timeouts: UpstreamTimeouts): number {
    return timeouts.firstByteMs ?? this.config.UPSTREAM_FIRST_BYTE_TIMEOUT_MS;
  }

  /** The idle timeout of a call (longest silence allowed once it answered): the request's or tenant's, else the platform's. */
  idleMs(timeouts: UpstreamTimeouts): number {
    return timeouts.idleMs ?? this.config.UPSTREAM_IDLE_TIMEOUT_MS;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.agent.close().catch(() => undefined), this.guarded.close().catch(() => undefined)]);
  }
}

/** How much of an upstream error answer is read: its message is all that is used. */
const ERROR_BODY_BYTES = 64 * 1024;

/**
 * A body read until it ends or passes `max` bytes; the rest is not read (the body is destroyed).
 * `complete`: it ended within `max`.
 */
async function readUpTo(body: UpstreamResponse['body'], max: number): Promise<{ bytes: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max) break;
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  return { bytes: Buffer.concat(chunks, size), complete: size <= max };
}

/** Maps undici/network failures to coded, retryable errors (never echoing URLs with secrets). */
export function toUpstreamError(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  const guard = urlGuardErrorOf(e);
  if (guard) return new DomainError(ErrorCode.UpstreamError, `The provider base URL is not allowed: ${guard.message}`, { retryable: false });
  const code = (e as { code?: string }).code ?? '';
  const name = (e as { name?: string }).name ?? '';
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return new DomainError(ErrorCode.UpstreamError, 'Request aborted', { retryable: false, meta: { aborted: true } });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new DomainError(ErrorCode.UpstreamTimeout, 'The provider did not answer in time', { retryable: true });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new DomainError(ErrorCode.UpstreamTimeout, 'The provider stopped sending data', { retryable: true });
  }
  return new DomainError(ErrorCode.UpstreamUnavailable, 'Could not reach the provider', { retryable: true, meta: { cause: code || name } });
}
