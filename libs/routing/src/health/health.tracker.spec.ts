import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { HealthTracker } from './health.tracker';
import { DEFAULT_CIRCUIT_POLICY } from './circuit-policy';

describe('HealthTracker (shared through the real Redis)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `${process.env.REDIS_PREFIX ?? 't:'}h${randomBytes(3).toString('hex')}:`;
  let now = 1_000_000;
  const clock = () => now;
  const policy = { ...DEFAULT_CIRCUIT_POLICY, cooldownMs: 10_000 };

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('opens after failures seen by two instances, probes after the cool-down, closes on recovery', async () => {
    const a = new HealthTracker(redis, prefix, policy, clock);
    const b = new HealthTracker(redis, prefix, policy, clock);
    const t = 'openai/gpt-4o|platform';
    for (let i = 0; i < 6; i++) a.ended(t, false, 50);
    for (let i = 0; i < 6; i++) b.ended(t, i < 2, 50);
    await a.tick();
    await b.tick();
    expect(a.state(t)).toBe('closed');
    await a.tick();
    // 10 errors of 12: both instances see the shared counts and agree.
    expect(a.state(t)).toBe('open');
    await b.tick();
    expect(b.state(t)).toBe('open');
    expect(b.health(t).open).toBe(true);

    now += policy.cooldownMs + 1;
    await a.tick();
    expect(a.state(t)).toBe('half_open');
    // One probe per interval is let through as healthy; the next is not.
    expect(a.health(t).open).toBe(false);
    expect(a.health(t).open).toBe(true);

    now += 10;
    a.ended(t, true, 40);
    await a.tick();
    await a.tick();
    expect(a.state(t)).toBe('closed');
    await b.tick();
    expect(b.state(t)).toBe('closed');
    expect(b.health(t).open).toBe(false);
  });

  /** 20 failures open the circuit; after the cool-down it is half-open. */
  async function openThenHalfOpen(a: HealthTracker, t: string): Promise<void> {
    for (let i = 0; i < 20; i++) a.ended(t, false);
    await a.tick();
    await a.tick();
    expect(a.state(t)).toBe('open');
    now += policy.cooldownMs + 1;
    await a.tick();
    expect(a.state(t)).toBe('half_open');
  }

  it('re-opens when a probe fails, and one error alone never opens a circuit', async () => {
    const a = new HealthTracker(redis, prefix, policy, clock);
    const t = 'anthropic/claude|platform';
    a.ended(t, false);
    await a.tick();
    await a.tick();
    expect(a.state(t)).toBe('closed');
    await openThenHalfOpen(a, t);
    now += 10;
    a.ended(t, false);
    await a.tick();
    expect(a.state(t)).toBe('open');
  });

  it('counts an abandoned probe neither way: the circuit stays half-open, then a real outcome decides', async () => {
    const a = new HealthTracker(redis, prefix, policy, clock);
    const t = 'openai/abandoned|platform';
    await openThenHalfOpen(a, t);
    // The probe's client went away before the provider answered.
    a.began(t);
    expect(a.health(t).inFlight).toBe(1);
    a.abandoned(t);
    expect(a.health(t).inFlight).toBe(0);
    now += 10;
    await a.tick();
    await a.tick();
    expect(a.state(t)).toBe('half_open');
    a.ended(t, false);
    await a.tick();
    expect(a.state(t)).toBe('open');
  });

  it('tracks latency and in-flight counts', async () => {
    const a = new HealthTracker(redis, prefix, policy, clock);
    const t = 'x/y|platform';
    a.began(t);
    a.began(t);
    expect(a.health(t).inFlight).toBe(2);
    a.ended(t, true, 100);
    a.ended(t, true, 300);
    await a.tick();
    expect(a.health(t)).toMatchObject({ inFlight: 0, latencyMs: 200, open: false });
  });

  it('forgets a target nobody used for longer than the windows reach, unless its circuit is not closed', async () => {
    const a = new HealthTracker(redis, prefix, policy, clock);
    const b = new HealthTracker(redis, prefix, policy, clock);
    const gone = 'openai/gpt-4o|pk_deleted';
    const busy = 'openai/gpt-4o|pk_busy';
    const failing = 'openai/gpt-4o|pk_failing';
    a.ended(gone, true, 10);
    for (let i = 0; i < 12; i++) a.ended(failing, false, 10);
    await a.tick();
    await a.tick();
    expect(a.state(failing)).toBe('open');
    const members = () => redis.smembers(`${prefix}gw:h:targets`);
    expect(await members()).toEqual(expect.arrayContaining([gone, failing]));
    // Long after: only another instance keeps using `busy`, nobody uses `gone`.
    const idle = policy.windowMs * (policy.windows + 2) + 1;
    now += idle;
    b.ended(busy, true, 10);
    await b.tick();
    await a.tick();
    expect(await members()).not.toContain(gone);
    expect(a.states().map(([t]) => t)).not.toContain(gone);
    // Used elsewhere, it stays; an open circuit is never forgotten.
    expect(await members()).toEqual(expect.arrayContaining([busy, failing]));
    expect(a.state(failing)).not.toBe('closed');
    // Used again, it is seen again.
    a.ended(gone, true, 10);
    await a.tick();
    expect(await members()).toContain(gone);
  });
});
