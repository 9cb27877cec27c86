import type { Redis } from 'ioredis';
import type { TargetHealth } from '../planner/plan.types';
import { DEFAULT_CIRCUIT_POLICY, type CircuitPolicy, type CircuitState, type WindowCounts } from './circuit-policy';

interface Local {
  pending: WindowCounts;
  inFlight: number;
  snapshot: { state: CircuitState; errorRate: number; latencyMs?: number; since: number };
  lastProbe: number;
  /** When this process last saw the target used, here or (through the windows) anywhere. */
  lastUsed: number;
}

const empty = (): WindowCounts => ({ ok: 0, err: 0, latencySum: 0, latencyN: 0 });

/**
 * Provider health shared by every gateway instance. The hot path only reads a local snapshot and
 * bumps local counters (no Redis round trip per request); once a second each instance flushes
 * its counters into shared per-window hashes and rebuilds its snapshot from them, and moves the
 * shared circuit state (closed -> open -> half-open -> closed).
 *
 * Keys (hash tag per target so a Cluster keeps one target's keys together):
 *   {p}gw:h:{target}:w:{window}  hash ok, err, ls (latency sum ms), ln
 *   {p}gw:h:{target}:c           hash state, until (ms), since (ms)
 *   {p}gw:h:targets              set of targets seen (idle ones are removed)
 */
export class HealthTracker {
  private readonly targets = new Map<string, Local>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly policy: CircuitPolicy = DEFAULT_CIRCUIT_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs = 1_000): void {
    this.timer = setInterval(() => void this.tick().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The planner's view of a target. Half-open lets one probe per interval through as healthy. */
  health(target: string): TargetHealth {
    const l = this.local(target);
    const s = l.snapshot;
    let open = s.state === 'open';
    if (s.state === 'half_open') {
      const now = this.now();
      open = now - l.lastProbe < this.policy.probeIntervalMs;
      if (!open) l.lastProbe = now;
    }
    return { open, errorRate: s.errorRate, latencyMs: s.latencyMs, inFlight: l.inFlight };
  }

  /** Every known target's circuit state (metrics). */
  states(): Array<[string, CircuitState]> {
    return [...this.targets].map(([t, l]) => [t, l.snapshot.state]);
  }

  state(target: string): CircuitState {
    return this.local(target).snapshot.state;
  }

  began(target: string): void {
    const l = this.local(target);
    l.inFlight++;
    l.lastUsed = this.now();
  }

  /** One attempt's outcome: errors are the retryable kind (5xx, 429, timeouts, connection). */
  ended(target: string, ok: boolean, latencyMs?: number): void {
    const l = this.local(target);
    l.inFlight = Math.max(0, l.inFlight - 1);
    l.lastUsed = this.now();
    if (ok) l.pending.ok++;
    else l.pending.err++;
    if (latencyMs !== undefined) {
      l.pending.latencySum += latencyMs;
      l.pending.latencyN++;
    }
  }

  /**
   * An attempt that ended with no verdict on the provider: the client went away or the request's
   * own deadline passed. It counts neither way (a probe aborted that way must not close a circuit).
   */
  abandoned(target: string): void {
    const l = this.local(target);
    l.inFlight = Math.max(0, l.inFlight - 1);
  }

  private local(target: string): Local {
    let l = this.targets.get(target);
    if (!l) {
      l = { pending: empty(), inFlight: 0, snapshot: { state: 'closed', errorRate: 0, since: 0 }, lastProbe: 0, lastUsed: this.now() };
      this.targets.set(target, l);
    }
    return l;
  }

  /** How long a window's counts stay readable (and decide a circuit): the windows, plus two. */
  private get windowsReachMs(): number {
    return this.policy.windowMs * (this.policy.windows + 2);
  }

  private key(target: string, rest: string): string {
    return `${this.prefix}gw:h:{${target}}:${rest}`;
  }

  /** Flush local counts, then rebuild every snapshot from the shared windows. */
  async tick(): Promise<void> {
    const now = this.now();
    const win = Math.floor(now / this.policy.windowMs);
    const ttlS = Math.ceil(this.windowsReachMs / 1000);
    const flush = this.redis.pipeline();
    for (const [target, l] of this.targets) {
      const p = l.pending;
      if (p.ok + p.err === 0) continue;
      const k = this.key(target, `w:${win}`);
      flush.hincrby(k, 'ok', p.ok).hincrby(k, 'err', p.err).hincrbyfloat(k, 'ls', p.latencySum).hincrby(k, 'ln', p.latencyN).expire(k, ttlS);
      flush.sadd(`${this.prefix}gw:h:targets`, target);
      l.pending = empty();
    }
    await flush.exec();

    const known = await this.redis.smembers(`${this.prefix}gw:h:targets`);
    for (const t of known) this.local(t);
    const read = this.redis.pipeline();
    const names = [...this.targets.keys()];
    for (const t of names) {
      read.hgetall(this.key(t, 'c'));
      for (let i = 0; i < this.policy.windows; i++) read.hgetall(this.key(t, `w:${win - i}`));
    }
    const res = (await read.exec()) ?? [];
    const per = this.policy.windows + 1;
    await Promise.all(names.map((t, j) => this.evaluate(t, res.slice(j * per, (j + 1) * per).map((r) => (r[1] ?? {}) as Record<string, string>), win, now)));
    await this.forgetIdle(now);
  }

  /**
   * Targets nobody used for longer than the windows reach, with a closed circuit, are forgotten
   * here and in the shared set: a deleted own key, a model no one asks for any more. Each would
   * otherwise cost a read of every window every second, for ever (own keys come and go). A target
   * used again is simply seen again.
   */
  private async forgetIdle(now: number): Promise<void> {
    const gone: string[] = [];
    for (const [t, l] of this.targets) {
      const p = l.pending;
      if (l.snapshot.state === 'closed' && l.inFlight === 0 && p.ok + p.err === 0 && now - l.lastUsed > this.windowsReachMs) gone.push(t);
    }
    if (gone.length === 0) return;
    for (const t of gone) this.targets.delete(t);
    await this.redis.srem(`${this.prefix}gw:h:targets`, ...gone);
  }

  private async evaluate(target: string, rows: Record<string, string>[], win: number, now: number): Promise<void> {
    const [circuit, ...windows] = rows;
    const since = Number(circuit.since ?? 0);
    let ok = 0;
    let err = 0;
    let latency: number | undefined;
    // Oldest first so the latency EWMA weights the newest window most; windows that ended before
    // the last transition are ignored (a closed circuit starts with a clean slate).
    for (let i = windows.length - 1; i >= 0; i--) {
      if ((win - i + 1) * this.policy.windowMs <= since) continue;
      const w = windows[i];
      const o = Number(w.ok ?? 0);
      const e = Number(w.err ?? 0);
      if (o + e === 0) continue;
      ok += o;
      err += e;
      const ln = Number(w.ln ?? 0);
      if (ln > 0) {
        const avg = Number(w.ls) / ln;
        latency = latency === undefined ? avg : this.policy.alpha * avg + (1 - this.policy.alpha) * latency;
      }
    }
    let state = (circuit.state as CircuitState | undefined) ?? 'closed';
    const until = Number(circuit.until ?? 0);
    const c = this.key(target, 'c');
    const total = ok + err;
    if (total > 0) this.local(target).lastUsed = now;
    const failing = total >= this.policy.minRequests && err / total >= this.policy.errorRate;
    if (state === 'closed' && failing) {
      state = 'open';
      await this.redis.hset(c, { state, until: now + this.policy.cooldownMs, since: now });
    } else if (state === 'open' && now >= until) {
      state = 'half_open';
      await this.redis.hset(c, { state, since: now });
    } else if (state === 'half_open') {
      // Probes decide: any failure re-opens, successes without failure close.
      if (err > 0) {
        state = 'open';
        await this.redis.hset(c, { state, until: now + this.policy.cooldownMs, since: now });
      } else if (ok > 0) {
        state = 'closed';
        await this.redis.hset(c, { state, since: now });
      }
    }
    this.local(target).snapshot = { state, errorRate: total ? err / total : 0, latencyMs: latency, since };
  }
}
