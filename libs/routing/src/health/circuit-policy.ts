/**
 * When a target's circuit opens and closes. Counts come from every gateway (shared windows in
 * Redis), so all instances reach the same verdict from the same numbers.
 */
export interface CircuitPolicy {
  /** Width of one counting window. */
  windowMs: number;
  /** How many recent windows the error rate looks at. */
  windows: number;
  /** Fewer requests than this never open a circuit (one error is not an outage). */
  minRequests: number;
  /** Error rate at or above which the circuit opens. */
  errorRate: number;
  /** How long an open circuit skips its target before probing it again. */
  cooldownMs: number;
  /** Probes let through per instance while half-open. */
  probeIntervalMs: number;
  /** EWMA smoothing of latency and error rate (weight of the newest window). */
  alpha: number;
}

export const DEFAULT_CIRCUIT_POLICY: CircuitPolicy = {
  windowMs: 5_000,
  windows: 4,
  minRequests: 10,
  errorRate: 0.5,
  cooldownMs: 15_000,
  probeIntervalMs: 1_000,
  alpha: 0.3,
};

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface WindowCounts {
  ok: number;
  err: number;
  latencySum: number;
  latencyN: number;
}
