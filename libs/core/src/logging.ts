import type { LoggerService, LogLevel } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from './config';

/**
 * The applications' own logs: one JSON object per line (pino), with the request id of the HTTP
 * request being served when there is one, and secrets scrubbed twice: known header paths are
 * redacted, and every finished line is searched for anything shaped like a credential (API keys,
 * bearer tokens, JWTs, webhook secrets), so a secret inside an error message or a stack trace is
 * masked too (reliability.md I8: LiteLLM leaked provider keys through exactly such messages).
 */

/** What a log line may not contain, by shape. Replacements keep the JSON line valid (no quotes, no backslashes). */
const SECRET_SHAPES: ReadonlyArray<[RegExp, string]> = [
  // OpenAI, Anthropic, DeepSeek, ... and our own keys (sk-gw-...).
  [/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]'],
  // Stripe secret/restricted keys and webhook secrets; our alert webhook secrets share the shape.
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}/g, '$1_$2_[redacted]'],
  [/\bwhsec_[A-Za-z0-9]{8,}/g, 'whsec_[redacted]'],
  // Google API keys.
  [/\bAIza[0-9A-Za-z_-]{30,}/g, 'AIza[redacted]'],
  // JWTs (admin sessions).
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[redacted-jwt]'],
  // Whatever follows a bearer or basic scheme.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
];

/** Masks every credential-shaped substring. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
  return out;
}

/** Header paths redacted by pino before serialization, wherever a request or headers object is logged. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.authorization',
  '*["x-api-key"]',
  '*.cookie',
  'password',
  'api_key',
  'secret',
  '*.password',
  '*.api_key',
  '*.secret',
];

interface RequestContext {
  id: string;
}

/** The HTTP request being served, for the `req_id` of every log line written while serving it. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export interface RootLoggerOptions {
  /** The app's name (`gateway`, `admin`, `billing`, `standalone`), on every line. */
  name?: string;
  /** Where lines go; default stdout (looked up at each write, so a test can capture it). */
  destination?: DestinationStream;
}

const STDOUT: DestinationStream = { write: (line: string) => void process.stdout.write(line) };

/** The process's root logger: JSON lines at LOG_LEVEL, ISO time, level names, scrubbed. */
export function createRootLogger(config: Pick<AppConfig, 'LOG_LEVEL'>, opts: RootLoggerOptions = {}): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      base: opts.name ? { app: opts.name, pid: process.pid } : { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: () => {
        const ctx = requestContext.getStore();
        return ctx ? { req_id: ctx.id } : {};
      },
      hooks: { streamWrite: scrubSecrets },
    },
    opts.destination ?? STDOUT,
  );
}

const NEST_TO_PINO: Record<LogLevel, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Nest's start-up chatter (every module and route) is noise next to the start banner. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * Nest's LoggerService over pino: `new Logger('billing').warn(...)` anywhere in the code becomes
 * `{"level":"warn","context":"billing","msg":...}`. Nest passes the context as the last string
 * argument and, for errors, a stack before it.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const method = NEST_TO_PINO[level];
    if (!this.root.isLevelEnabled(method)) return;
    const rest = [...params];
    const last = rest[rest.length - 1];
    // The last string is the context, unless it is a stack (`new Logger().error(msg, err.stack)` has no context).
    const context = typeof last === 'string' && !last.includes('\n') ? (rest.pop() as string) : undefined;
    if (level === 'log' && context && QUIET_CONTEXTS.has(context)) return;
    // `logger.error(msg, stack, 'ctx')` on a Logger created with 'ctx' repeats it.
    if (context && rest[rest.length - 1] === context) rest.pop();
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
    if (rest.length > 0) fields.details = rest;
    if (message instanceof Error) {
      fields.err = message;
      this.root[method](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.root[method]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.root[method](fields, String(message));
    }
  }
}
