import { NestFactory } from '@nestjs/core';
import underPressure from '@fastify/under-pressure';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onResponseHookHandler, preHandlerHookHandler, RouteOptions } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import { DomainError, ErrorCode } from './errors';
import { bodyProblem, bodyProblemError, MAX_JSON_DEPTH } from './json-body';
import { randomBase62 } from './ids';
import { createRootLogger, PinoNestLogger, requestContext, type RootLoggerOptions } from './logging';

export { createRootLogger, PinoNestLogger, requestContext, scrubSecrets, type RootLoggerOptions } from './logging';

/** Routes that never get a per-request line unless ACCESS_LOG=all: the hot path and the scrapes. */
const QUIET_ROUTES = /^\/(v1(\/|$)|metrics$|healthz$|readyz$)/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of a request outside the gateway's routes (those have their own `gwRequestId`). */
    gwLogId?: string;
  }
}

/** Creates a Nest application on Fastify with the limits every app shares and JSON logs (pino). */
export async function createFastifyApp(module: unknown, config: AppConfig, logging: RootLoggerOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxyOf(config.TRUST_PROXY),
    // The whole request (headers and body) must arrive within REQUEST_TIMEOUT_MS, or 408 and the
    // connection closes (slowloris, a client trickling its body). Node's timer covers receiving the
    // request only: answers and streams are bounded by the gateway's upstream timeouts instead.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // Headers within 10 s (Node enforces the request timeout only while the headers timeout is not
    // longer), and the timers checked every second (Node's 30 s default would let a trickle run over).
    http: { headersTimeout: Math.min(10_000, config.REQUEST_TIMEOUT_MS), connectionsCheckingInterval: Math.min(1000, config.REQUEST_TIMEOUT_MS) },
    keepAliveTimeout: 65_000,
    clientErrorHandler: clientError,
  });
  const root = createRootLogger(config, logging);
  refuseMalformedJson(adapter, config.BODY_LIMIT_BYTES);
  shedWhenOverloaded(adapter.getInstance(), config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS, root.child({ context: 'overload' }));
  instrumentRoutes(adapter.getInstance(), config, root);
  closeSilentConnectionsOnClose(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: new PinoNestLogger(root),
    bufferLogs: false,
    // From the first moment of a shutdown new requests get 503 (and go to another instance),
    // while the ones running finish.
    return503OnClosing: true,
  });
  app.enableShutdownHooks();
  return app;
}

/**
 * Request ids and access lines, attached per route (Fastify's onRoute) rather than globally, so
 * the gateway's /v1 routes pay nothing unless ACCESS_LOG=all. Every other route answers with an
 * `x-request-id` and runs in a request context, so its log lines carry `req_id`.
 */
function instrumentRoutes(fastify: FastifyInstance, config: AppConfig, root: Logger): void {
  const access = root.child({ context: 'access' });
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const quiet = QUIET_ROUTES.test(route.url);
    if (!quiet) {
      route.onRequest = [assignRequestId, ...hooks(route.onRequest)];
      // After the body is parsed: parsing runs in the socket's async context, which would lose the store.
      route.preHandler = [enterRequestContext, ...hooks(route.preHandler)];
    }
    if (config.ACCESS_LOG === 'all' || (config.ACCESS_LOG === 'api' && !quiet)) {
      route.onResponse = [...hooks(route.onResponse), accessLine(access)];
    }
  });
}

/**
 * JSON bodies must be text (reliability T11) and shallow (T10), on every app. Fastify's own parser
 * decodes invalid bytes to U+FFFD, so a client's garbage would reach a provider silently altered;
 * `"\ud800"` is valid JSON but not text; nesting 100k levels deep overflows the stack of whatever
 * walks the body recursively later (a 500). The byte check is native (simdutf), the JSON is parsed
 * by Fastify's default parser (prototype-poisoning checks included), then walked once, iteratively.
 */
function refuseMalformedJson(adapter: FastifyAdapter, bodyLimit: number): void {
  const json = adapter.getInstance().getDefaultJsonParser('error', 'error');
  // Through Nest's adapter, so that Nest does not register its own JSON parser at init.
  adapter.useBodyParser('application/json', false, { bodyLimit }, (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    if (!isUtf8(body)) {
      done(new DomainError(ErrorCode.InvalidUtf8, 'The request body is not valid UTF-8'));
      return;
    }
    void json(req, body.toString('utf8'), (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      const problem = bodyProblem(value, MAX_JSON_DEPTH);
      done(problem ? bodyProblemError(problem) : null, problem ? undefined : value);
    });
  });
}

/** How often the event loop's delay is sampled for load shedding. */
const SAMPLE_MS = 100;
/** The plugin's delay histogram's resolution (fixed in @fastify/under-pressure). */
const HISTOGRAM_RESOLUTION_MS = 10;

/** Liveness and the metrics scrape answer even when the process sheds everything else. */
const NEVER_SHED = /^\/(healthz|metrics)(\?|$)/;

/**
 * Load shedding (reliability L4): while the event loop's mean delay over the last 100 ms is above
 * `maxDelayMs`, new requests get 503 with Retry-After at once instead of queueing behind the
 * backlog until every client times out. The error goes to the route's own error handler, so each
 * surface answers in its shape (Anthropic's 529 `overloaded_error` on /v1/messages); /readyz
 * reports not ready in its own shape, so a load balancer moves traffic elsewhere; /healthz and
 * /metrics still answer, so the process is neither restarted nor blind for being busy.
 */
function shedWhenOverloaded(fastify: FastifyInstance, maxDelayMs: number, log: Logger): void {
  if (maxDelayMs <= 0) return;
  const overloaded = () => new DomainError(ErrorCode.ServiceUnavailable, 'The gateway is overloaded; retry shortly', { retryAfterSeconds: 1 });
  // Node's delay histogram forgets its last timestamp when the plugin resets it each sample, so a
  // window in which its timer fired at most once records nothing, and the plugin reads the empty
  // window as an infinite delay: one stall of ~100 ms (a GC pause, a descheduled process) shed
  // requests whatever the threshold. An empty window means the loop turned about once in it, so
  // its delay is judged as the histogram would have: the window's length less the resolution.
  let emptyWindowDelayMs = 0;
  let lastTick = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    emptyWindowDelayMs = now - lastTick - HISTOGRAM_RESOLUTION_MS;
    lastTick = now;
  }, SAMPLE_MS);
  tick.unref();
  fastify.addHook('onClose', (_instance, done) => {
    clearInterval(tick);
    done();
  });
  // One warning per overload episode (a second without shedding ends one), not one per request.
  let lastShedAt = 0;
  const warnOncePerEpisode = () => {
    const now = Date.now();
    if (now - lastShedAt > 1000) {
      const delay = fastify.memoryUsage().eventLoopDelay;
      log.warn({ event_loop_delay_ms: Math.round(Number.isFinite(delay) ? delay : emptyWindowDelayMs), max_ms: maxDelayMs }, 'overloaded: shedding new requests');
    }
    lastShedAt = now;
  };
  void fastify.register(underPressure, {
    maxEventLoopDelay: maxDelayMs,
    sampleInterval: SAMPLE_MS,
    // The plugin sends what the handler returns (its types only declare void), passes a rejection
    // to the route's error handler, and lets the request through on undefined.
    pressureHandler: ((req: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined): unknown => {
      if (NEVER_SHED.test(req.url)) return undefined;
      if (type === 'eventLoopDelay' && value === Infinity && emptyWindowDelayMs <= maxDelayMs) return undefined;
      warnOncePerEpisode();
      // The /v1 routes' own error handlers give each surface its shape.
      if (!req.url.startsWith('/readyz')) return Promise.reject(overloaded());
      void reply.code(503).header('retry-after', '1');
      return { status: 'not_ready', reason: 'overloaded' };
    }) as (req: FastifyRequest, reply: FastifyReply) => void,
  });
}

/**
 * A connection that has not sent a byte (a client's connection pool opening one ahead of need)
 * has no request to finish, yet Node's server.close() waits for it: it closes only keep-alive
 * connections between requests, so a shutdown would wait until the client dropped it (minutes).
 * Closing runs after the in-flight requests were drained, so these can go.
 */
function closeSilentConnectionsOnClose(fastify: FastifyInstance): void {
  const open = new Set<Socket>();
  fastify.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  fastify.addHook('preClose', (done) => {
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    done();
  });
}

/**
 * Errors Node raises before a request reaches a route (a request timeout, oversized headers,
 * unparsable HTTP), answered in the OpenAI error shape like every other error, then closed.
 */
function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request_too_large', 'Request headers too large']
        : [400, 'invalid_request', 'Malformed HTTP request'];
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', code, param: null } });
  if (socket.writable && socket.bytesWritten === 0) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

function hooks<T>(h: T | T[] | undefined): T[] {
  return h === undefined ? [] : Array.isArray(h) ? h : [h];
}

const assignRequestId: onRequestHookHandler = (req, reply, done) => {
  req.gwLogId = `req-${Date.now().toString(36)}${randomBase62(12)}`;
  void reply.header('x-request-id', req.gwLogId);
  done();
};

const enterRequestContext: preHandlerHookHandler = (req, _reply, done) => {
  requestContext.run({ id: req.gwLogId ?? String(req.id) }, done);
};

function accessLine(log: Logger): onResponseHookHandler {
  return (req: FastifyRequest, reply: FastifyReply, done) => {
    const gatewayId = (req as { gwRequestId?: string }).gwRequestId;
    const status = reply.statusCode;
    log[status >= 500 ? 'error' : 'info'](
      {
        req_id: gatewayId ?? req.gwLogId ?? reply.getHeader('x-request-id'),
        method: req.method,
        // The path only: query strings are where clients put keys (`?key=`), never in a log; and
        // an invitation's token, which is in its path, is a credential too.
        path: loggedPath(req.url),
        status,
        ms: Math.round(reply.elapsedTime * 1000) / 1000,
        ip: req.ip,
      },
      'request',
    );
    done();
  };
}

const INVITE_TOKEN = /^(\/api\/invites\/)[^/]+(\/accept)$/;

/** A request's path as it may be logged: no query string, no invitation token. */
export function loggedPath(url: string): string {
  return url.split('?')[0]!.replace(INVITE_TOKEN, '$1[redacted]$2');
}

/** TRUST_PROXY as Fastify takes it: a boolean, a hop count (as a function), or addresses and ranges. */
export function trustProxyOf(value: string): boolean | string | ((address: string, hop: number) => boolean) {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value;
}
