import { z } from 'zod';
import { redisConnectionOf } from './redis-url';

/**
 * The one validated configuration schema. `loadConfig` is the only reader of the process
 * environment in the whole codebase; everything else receives the frozen result.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const usd = z.string().regex(/^\d+(\.\d{1,6})?$/, 'a USD amount like 10 or 0.25');
const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), 'base64 of exactly 32 bytes (openssl rand -base64 32)');
const percent = z.string().regex(/^\d+(\.\d{1,2})?$/, 'a percentage like 5 or 2.5');

/** What one tenant may use of one provider through the platform's own credentials. */
export const platformCapSchema = z.strictObject({
  /** Requests started per minute. */
  rpm: z.number().int().min(1).optional(),
  /** Requests in flight at once (streams count until they end). */
  concurrency: z.number().int().min(1).optional(),
});
/** Provider name (or `*` for every other provider) to its per-tenant cap. */
export const platformCapsSchema = z.record(z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]*)$/, 'a provider name or *'), platformCapSchema);
export type PlatformCap = z.infer<typeof platformCapSchema>;
export type PlatformCaps = z.infer<typeof platformCapsSchema>;

const jsonOf = <T extends z.ZodType>(inner: T) =>
  z.string().transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  }).pipe(inner);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(8080, 0),
  PUBLIC_BASE_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  REDIS_URL: z
    .string()
    .superRefine((v, ctx) => {
      try {
        redisConnectionOf(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    })
    .optional(),
  /** Prefix of every Redis key, pub/sub channel and BullMQ queue (tests isolate workers with it). */
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]*$/).default(''),
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  JWT_TTL_SECONDS: int(86_400, 60),
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** When set, GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SANDBOX: bool.optional(),
  PLATFORM_MARKUP_PERCENT: percent.default('0'),
  BYOK_FEE_PERCENT: percent.default('5'),
  OVERDRAFT_USD: usd.default('0'),
  HOLD_TTL_SECONDS: int(120, 10),
  DRAIN_TIMEOUT_MS: int(30_000, 0),
  /**
   * Where each gateway appends every charged request's usage event (hourly JSON-lines files):
   * what `npm run usage:recover` writes to the ledger after a Redis data loss. Unset: no journal.
   */
  USAGE_JOURNAL_DIR: z.string().min(1).optional(),
  USAGE_JOURNAL_RETENTION_HOURS: int(72, 1),
  BODY_LIMIT_BYTES: int(10 * 1024 * 1024, 1024),
  REQUEST_TIMEOUT_MS: int(60_000, 100),
  /** Mean event-loop delay (ms, over 100 ms) above which requests are shed with 503; 0: never. */
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: int(500, 0),
  /** A turn's Redis commands after its first leave in one socket write (libs/metering redis-write-batching). */
  REDIS_BATCH_WRITES: bool.default(true),
  /** How long a starting process waits for Redis to answer before it gives up (exit 1). */
  REDIS_STARTUP_WAIT_SECONDS: int(60, 1),
  KEY_CACHE_TTL_SECONDS: int(60, 1),
  USAGE_DRAIN_INTERVAL_MS: int(1_000, 50),
  UPSTREAM_CONNECT_TIMEOUT_MS: int(10_000, 1),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: int(120_000, 1),
  UPSTREAM_IDLE_TIMEOUT_MS: int(120_000, 1),
  UPSTREAM_MAX_RESPONSE_BYTES: int(64 * 1024 * 1024, 1024),
  DEMO_CREDITS_USD: usd.default('10'),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z.string().url().optional(),
  /** Bounds of one Checkout top-up, USD. */
  TOPUP_MIN_USD: usd.default('5'),
  TOPUP_MAX_USD: usd.default('10000'),
  /** Where Stripe Checkout sends the payer back; default PUBLIC_BASE_URL (or the local URL) + /billing/... */
  CHECKOUT_SUCCESS_URL: z.string().url().optional(),
  CHECKOUT_CANCEL_URL: z.string().url().optional(),
  /** Consecutive declined auto top-ups after which auto top-up is switched off (and the tenant emailed). */
  AUTO_TOPUP_MAX_FAILURES: int(3, 1),
  /** First retry delay of a declined auto top-up; doubles per retry. */
  AUTO_TOPUP_RETRY_DELAY_MS: int(60_000, 10),
  /** How often every enabled tenant's balance is checked against its auto top-up threshold. */
  AUTO_TOPUP_SCAN_INTERVAL_MS: int(30_000, 100),
  /** How often Redis balances are compared with the ledger (and drift repaired). */
  RECONCILE_INTERVAL_MS: int(60_000, 100),
  ALLOW_PRIVATE_PROVIDER_URLS: bool.default(false),
  /**
   * User-supplied URLs (BYOK base URLs, alert webhooks) must be https. Default: on in production.
   * A BYOK key sent over http crosses the network in clear.
   */
  PROVIDER_URL_HTTPS_ONLY: bool.optional(),
  /** Ports user-supplied URLs may name (default 443, plus 80 when http is allowed); `any` lifts the rule. */
  PROVIDER_URL_PORTS: z
    .string()
    .regex(/^(any|\d{1,5}(,\d{1,5})*)$/, 'a comma-separated list of ports, or any')
    .refine((v) => v === 'any' || v.split(',').every((p) => Number(p) >= 1 && Number(p) <= 65535), 'ports are 1 to 65535')
    .optional(),
  /** Provider health: counting window, circuit cool-down, error rate and minimum requests that open a circuit. */
  HEALTH_WINDOW_MS: int(5_000, 100),
  CIRCUIT_COOLDOWN_MS: int(15_000, 100),
  CIRCUIT_ERROR_RATE: z.coerce.number().gt(0).lte(1).default(0.5),
  CIRCUIT_MIN_REQUESTS: int(10, 1),
  /**
   * Per-tenant caps on the platform's own provider credentials, so one tenant cannot use up the
   * quota every tenant shares: JSON, provider (or `*`) to `{rpm, concurrency}`. BYOK is never capped.
   */
  PLATFORM_TENANT_CAPS: jsonOf(platformCapsSchema).default({}),
  /** Azure OpenAI `api-version` query parameter. */
  AZURE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'like 2025-04-01-preview').optional(),
  /** Key-encryption key of BYOK secrets: base64 of 32 random bytes (AES-256-GCM). */
  SECRETS_KEY: base64Key.optional(),
  /** Version stamped on everything sealed with SECRETS_KEY; bump it when rotating. */
  SECRETS_KEY_VERSION: int(1, 1),
  /** Previous keys still accepted for decryption, `version:base64,...` (until keys:rotate ran). */
  SECRETS_OLD_KEYS: z.string().regex(/^\d+:[A-Za-z0-9+/=]+(,\d+:[A-Za-z0-9+/=]+)*$/, 'version:base64 pairs separated by commas').optional(),
  /** SMTP transport of the email port (`smtp://user:pass@host:587`); without it mail goes to the outbox table. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL').optional(),
  EMAIL_FROM: z.string().min(3).default('LLM Gateway <no-reply@gateway.local>'),
  INVITE_TTL_HOURS: int(168, 1),
  /** How long a rotated API key keeps working unless the rotate call says otherwise. */
  KEY_ROTATION_GRACE_SECONDS: int(86_400, 0),
  /** Brute-force protection of login and sign-up: counters per window, per IP and per account. */
  AUTH_RATE_WINDOW_SECONDS: int(900, 1),
  AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: int(10, 1),
  AUTH_LOGIN_MAX_FAILURES_PER_IP: int(100, 1),
  AUTH_SIGNUP_MAX_PER_IP: int(20, 1),
  /**
   * Which peers' `X-Forwarded-For` is believed for the client IP (the per-IP limits): `true`,
   * `false`, a hop count, or addresses/ranges/`loopback`,`linklocal`,`uniquelocal` (default: proxies
   * on the same host or private network, so a client on the internet cannot name its own IP).
   */
  TRUST_PROXY: z.string().min(1).default('loopback,linklocal,uniquelocal'),
  /**
   * One JSON line per HTTP request: `api` (default) for everything but /v1 and the ops endpoints
   * (the gateway's hot path and scrapes stay quiet), `all`, or `off`.
   */
  ACCESS_LOG: z.enum(['off', 'api', 'all']).default('api'),
  /** Request logs (and alert deliveries) older than this are deleted by the retention job. */
  REQUEST_LOG_RETENTION_DAYS: int(90, 1),
  /** How often the retention job runs (content past each tenant's retention_days, logs past REQUEST_LOG_RETENTION_DAYS). */
  RETENTION_INTERVAL_MS: int(3_600_000, 100),
  /** How often alert rules are evaluated. */
  ALERT_EVAL_INTERVAL_MS: int(60_000, 100),
  /** Attempts of one alert webhook delivery; the first retry waits ALERT_RETRY_DELAY_MS, doubling each time. */
  ALERT_DELIVERY_ATTEMPTS: int(8, 1),
  ALERT_RETRY_DELAY_MS: int(10_000, 10),
  /** Time limit of one webhook call (connect to response headers). */
  ALERT_WEBHOOK_TIMEOUT_MS: int(10_000, 100),
  /** OpenTelemetry traces: exported over OTLP/HTTP when the endpoint is set, off (and not loaded) otherwise. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('llm-gateway'),
  /** Share of requests traced, 0..1 (a sampled incoming `traceparent` is always followed). */
  OTEL_TRACES_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
});

export type EnvConfig = z.infer<typeof schema>;

export interface ProviderEnv {
  apiKey?: string;
  baseUrl?: string;
}

/** What user-supplied URLs may be (reliability T48), from PROVIDER_URL_HTTPS_ONLY and PROVIDER_URL_PORTS. */
export interface UrlPolicy {
  httpsOnly: boolean;
  /** Allowed ports; null: any. */
  ports: ReadonlySet<number> | null;
}

export interface AppConfig extends EnvConfig {
  /** Sandbox mode: no provider keys and not production, or SANDBOX=true. */
  sandbox: boolean;
  /** The `*_API_KEY` variables (Stripe's aside) that are set: what turned sandbox mode off. */
  providerKeyVars: readonly string[];
  /** User-supplied URLs: https only and port 443 in production, anything outside it, unless configured. */
  urlPolicy: UrlPolicy;
  jwtSecret: string;
  /** `<PREFIX>_API_KEY` / `<PREFIX>_BASE_URL` of a provider adapter. */
  provider(prefix: string): ProviderEnv;
}

export class ConfigError extends Error {}

const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me-0123456789';
const PLACEHOLDER = /change-me/i;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const snapshot = Object.freeze({ ...env });
  const raw = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, emptyToUndefined(snapshot[k])]));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const problems: string[] = [];
  if (c.NODE_ENV === 'production' && !c.JWT_SECRET) problems.push('  JWT_SECRET: required when NODE_ENV=production');
  if (c.NODE_ENV === 'production' && !c.SECRETS_KEY) problems.push('  SECRETS_KEY: required when NODE_ENV=production (openssl rand -base64 32)');
  // docker-compose.yml's placeholders: anyone who read it could mint credit or decrypt BYOK keys.
  if (c.NODE_ENV === 'production') {
    const secrets = { JWT_SECRET: c.JWT_SECRET, ADMIN_TOKEN: c.ADMIN_TOKEN, SECRETS_KEY: c.SECRETS_KEY && Buffer.from(c.SECRETS_KEY, 'base64').toString('latin1') };
    for (const [name, value] of Object.entries(secrets)) {
      if (value && PLACEHOLDER.test(value)) problems.push(`  ${name}: still the docker-compose placeholder; set your own (openssl rand -base64 32)`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const provider = (prefix: string): ProviderEnv => ({
    apiKey: emptyToUndefined(snapshot[`${prefix}_API_KEY`]),
    baseUrl: emptyToUndefined(snapshot[`${prefix}_BASE_URL`]),
  });
  const providerKeyVars = Object.keys(snapshot).filter((k) => k.endsWith('_API_KEY') && !k.startsWith('STRIPE') && !!snapshot[k]).sort();
  const sandbox = c.SANDBOX ?? (providerKeyVars.length === 0 && c.NODE_ENV !== 'production');
  const production = c.NODE_ENV === 'production';
  const httpsOnly = c.PROVIDER_URL_HTTPS_ONLY ?? production;
  const ports = c.PROVIDER_URL_PORTS ?? (production ? (httpsOnly ? '443' : '443,80') : 'any');
  const urlPolicy: UrlPolicy = { httpsOnly, ports: ports === 'any' ? null : new Set(ports.split(',').map(Number)) };
  return Object.freeze({ ...c, sandbox, providerKeyVars, urlPolicy, jwtSecret: c.JWT_SECRET ?? DEV_JWT_SECRET, provider });
}

function emptyToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Nest injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
