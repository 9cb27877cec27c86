import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeBehaviour } from './fake-behaviour';

/** One request as the fake received it: enough to prove which key and which body reached the upstream. */
export interface ReceivedRequest {
  seq: number;
  method: string;
  path: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body; undefined when the body was empty or not JSON. */
  body: unknown;
  receivedAt: number;
  /** The behaviour that served it (after merging defaults). */
  behaviour: FakeBehaviour;
  /** The client went away before the response was complete (e.g. the gateway aborted a stream). */
  clientAborted: boolean;
  /** When the connection for this response closed (ms epoch). */
  closedAt?: number;
  /** When the whole response was handed to the operating system (ms epoch): a reader that does not read holds this back. */
  finishedAt?: number;
}

export interface FakeServerOptions {
  /** If set, requests carrying another key get the provider's 401. */
  apiKey?: string;
  /** Behaviour merged under every request's behaviour. */
  defaults?: FakeBehaviour;
  /** Keep at most this many requests for inspection (oldest dropped). Default 1000; 0 keeps none. */
  maxRecorded?: number;
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export const BEHAVIOUR_HEADER = 'x-fake-behaviour';

interface Queued {
  behaviour: FakeBehaviour;
  remaining: number;
}

/**
 * The transport half of a fake upstream: listening, behaviour selection, request recording,
 * delays and stream cuts. Subclasses speak one provider's wire format.
 */
export abstract class FakeHttpServer {
  private server: Server | undefined;
  private url: string | undefined;
  private readonly queue: Queued[] = [];
  private defaults: FakeBehaviour;
  private readonly recorded: ReceivedRequest[] = [];
  private readonly maxRecorded: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(protected readonly options: FakeServerOptions = {}) {
    this.defaults = options.defaults ?? {};
    this.maxRecorded = options.maxRecorded ?? 1000;
  }

  /** Starts listening; resolves to the root URL, e.g. `http://127.0.0.1:41234`. */
  async start(): Promise<string> {
    if (this.url !== undefined) return this.url;
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.url = `http://${addr.address}:${addr.port}`;
    return this.url;
  }

  get baseUrl(): string {
    if (this.url === undefined) throw new Error('fake server not started');
    return this.url;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queues behaviours for the next requests, in order. */
  enqueue(...behaviours: FakeBehaviour[]): this {
    for (const b of behaviours) this.queue.push({ behaviour: b, remaining: Math.max(1, b.times ?? 1) });
    return this;
  }

  setDefaults(b: FakeBehaviour): this {
    this.defaults = b;
    return this;
  }

  /** Forgets queued behaviours and recorded requests. */
  reset(): this {
    this.queue.length = 0;
    this.recorded.length = 0;
    return this;
  }

  /** Behaviours not consumed yet. */
  get pending(): number {
    return this.queue.reduce((n, q) => n + q.remaining, 0);
  }

  /** Requests received since start (recorded or not). */
  get requestCount(): number {
    return this.seq;
  }

  /** Recorded requests, oldest first. */
  get requests(): readonly ReceivedRequest[] {
    return this.recorded;
  }

  lastRequest(): ReceivedRequest | undefined {
    return this.recorded[this.recorded.length - 1];
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  /** Resolves once `n` requests in total have been received. */
  waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    if (this.seq >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake server saw ${this.seq} of ${n} requests`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Answers one request; `rec.body` is parsed. */
  protected abstract handle(rec: ReceivedRequest, res: ServerResponse): Promise<void>;

  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  /** An SSE keep-alive as this provider sends it (a comment; Anthropic overrides it with its `ping` event). */
  protected keepAlive(): string {
    return ': keep-alive\n\n';
  }

  protected sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** Writes SSE events with the behaviour's pacing, cut and injection rules applied by the caller's event list. */
  protected async sendStream(res: ServerResponse, events: readonly string[], b: FakeBehaviour, headers: Record<string, string>): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    const cut = b.cutAfterEvents;
    const n = cut === undefined ? events.length : Math.min(cut, events.length);
    const delay = b.chunkDelayMs ?? 0;
    if (delay <= 0) {
      if (cut === undefined) {
        res.end(events.join(''));
        return;
      }
      if (n > 0) res.write(events.slice(0, n).join(''));
    } else {
      res.flushHeaders();
      for (let i = 0; i < n; i++) {
        if (i > 0) await this.sleep(delay);
        if (res.destroyed) return;
        res.write(events[i]);
      }
    }
    if (cut === undefined) {
      res.end();
      return;
    }
    const mode = b.cutMode ?? 'destroy';
    if (mode === 'end') {
      res.end();
      return;
    }
    if (mode === 'keep-alive') {
      res.flushHeaders();
      while (!res.destroyed) {
        await this.sleep(b.keepAliveMs ?? 100);
        if (!res.destroyed) res.write(this.keepAlive());
      }
      return;
    }
    const next = events[n];
    const tail = mode === 'mid-event' && next !== undefined ? next.slice(0, Math.max(1, Math.floor(next.length / 2))) : '';
    res.flushHeaders();
    // Destroy only once the bytes already written are flushed, so the client sees exactly N events.
    const socket = res.socket;
    if (tail !== '') res.write(tail, () => socket?.destroy());
    else if (socket) setImmediate(() => socket.destroy());
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const seq = ++this.seq;
    const behaviour = this.pick(req.headers[BEHAVIOUR_HEADER]);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      if (rawBody !== '') {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
      }
      const rec: ReceivedRequest = {
        seq,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody,
        body,
        receivedAt: Date.now(),
        behaviour,
        clientAborted: false,
      };
      this.record(rec);
      res.on('finish', () => {
        rec.finishedAt = Date.now();
      });
      res.on('close', () => {
        rec.closedAt = Date.now();
        if (!res.writableFinished) rec.clientAborted = true;
      });
      this.handle(rec, res).catch(() => {
        if (!res.headersSent) this.sendJson(res, 500, { error: { message: 'fake server failure', type: 'server_error' } });
        else res.destroy();
      });
    });
    this.notify();
  }

  private pick(header: string | string[] | undefined): FakeBehaviour {
    const raw = Array.isArray(header) ? header[0] : header;
    if (raw !== undefined && raw !== '') {
      try {
        return { ...this.defaults, ...(JSON.parse(raw) as FakeBehaviour) };
      } catch {
        // An unreadable header is ignored: the queue or defaults apply.
      }
    }
    const head = this.queue[0];
    if (head === undefined) return this.defaults;
    if (--head.remaining <= 0) this.queue.shift();
    return { ...this.defaults, ...head.behaviour };
  }

  private record(rec: ReceivedRequest): void {
    if (this.maxRecorded <= 0) return;
    if (this.recorded.length >= this.maxRecorded) this.recorded.shift();
    this.recorded.push(rec);
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => this.seq >= w.n);
    this.waiters = this.waiters.filter((w) => this.seq < w.n);
    for (const w of ready) w.resolve();
  }
}
