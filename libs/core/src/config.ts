import { z } from 'zod';

/**
 * The one validated configuration schema. `loadConfig` is the only reader of the process
 * environment in the whole codebase; everything else receives the frozen result.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const usd = z.string().regex(/^\d+(\.\d{1,6})?$/, 'a USD amount like 10 or 0.25');
const percent = z.string().regex(/^\d+(\.\d{1,2})?$/, 'a percentage like 5 or 2.5');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(8080, 0),
  PUBLIC_BASE_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL').optional(),
  /** Prefix of every Redis key, pub/sub channel and BullMQ queue (tests isolate workers with it). */
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]*$/).default(''),
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  JWT_TTL_SECONDS: int(86_400, 60),
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SANDBOX: bool.optional(),
  PLATFORM_MARKUP_PERCENT: percent.default('0'),
  BYOK_FEE_PERCENT: percent.default('5'),
  OVERDRAFT_USD: usd.default('0'),
  HOLD_TTL_SECONDS: int(120, 10),
  DRAIN_TIMEOUT_MS: int(30_000, 0),
  BODY_LIMIT_BYTES: int(10 * 1024 * 1024, 1024),
  KEY_CACHE_TTL_SECONDS: int(60, 1),
  USAGE_DRAIN_INTERVAL_MS: int(1_000, 50),
  UPSTREAM_CONNECT_TIMEOUT_MS: int(10_000, 1),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: int(120_000, 1),
  UPSTREAM_IDLE_TIMEOUT_MS: int(120_000, 1),
  DEMO_CREDITS_USD: usd.default('10'),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z.string().url().optional(),
  ALLOW_PRIVATE_PROVIDER_URLS: bool.default(false),
  /** Azure OpenAI `api-version` query parameter. */
  AZURE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'like 2024-10-21').optional(),
});

export type EnvConfig = z.infer<typeof schema>;

export interface ProviderEnv {
  apiKey?: string;
  baseUrl?: string;
}

export interface AppConfig extends EnvConfig {
  /** Sandbox mode: no provider keys and not production, or SANDBOX=true. */
  sandbox: boolean;
  jwtSecret: string;
  /** `<PREFIX>_API_KEY` / `<PREFIX>_BASE_URL` of a provider adapter. */
  provider(prefix: string): ProviderEnv;
}

export class ConfigError extends Error {}

const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me-0123456789';

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
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const provider = (prefix: string): ProviderEnv => ({
    apiKey: emptyToUndefined(snapshot[`${prefix}_API_KEY`]),
    baseUrl: emptyToUndefined(snapshot[`${prefix}_BASE_URL`]),
  });
  const anyProviderKey = Object.keys(snapshot).some((k) => k.endsWith('_API_KEY') && !k.startsWith('STRIPE') && !!snapshot[k]);
  const sandbox = c.SANDBOX ?? (!anyProviderKey && c.NODE_ENV !== 'production');
  return Object.freeze({ ...c, sandbox, jwtSecret: c.JWT_SECRET ?? DEV_JWT_SECRET, provider });
}

function emptyToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Nest injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
