import type { ModelPrice } from '@gw/metering';

/** What the planner knows of one catalog model (one provider serving one model). */
export interface PlannableModel {
  /** `provider/model`. */
  id: string;
  provider: string;
  /** The model's identity across providers (`openai/gpt-4o` for `azure/gpt-4o`); defaults to `id`. */
  canonical: string;
  price: ModelPrice;
}

/** Shared health of a target, from the local snapshot (no I/O). */
export interface TargetHealth {
  /** Circuit open: skip unless nothing else is left. */
  open: boolean;
  /** Exponentially weighted error rate, 0..1. */
  errorRate: number;
  /** Exponentially weighted latency to first byte, ms (undefined when never measured). */
  latencyMs?: number;
  /** Requests currently in flight on this process (least-busy balancing). */
  inFlight: number;
}

export interface PlannerCatalog {
  get(id: string): PlannableModel | undefined;
  /** Every model sharing this canonical identity, the canonical one included. */
  equivalents(canonical: string): PlannableModel[];
}

/** `least_busy`: fewest requests in flight on this gateway instance first (ties by price). */
export type Sort = 'price' | 'latency' | 'throughput' | 'least_busy';
export const SORTS: readonly Sort[] = ['price', 'latency', 'throughput', 'least_busy'];

export interface ProviderPrefs {
  order?: string[];
  only?: string[];
  ignore?: string[];
  allow_fallbacks?: boolean;
  sort?: Sort;
  /** USD per million tokens. */
  max_price?: { prompt?: number; completion?: number };
}

export interface PlannedAttempt {
  model: PlannableModel;
  /** Why this attempt is in the plan (shown in the generation record). */
  via: string;
}

export interface Plan {
  attempts: PlannedAttempt[];
  /** Rules and choices that shaped the plan, in order (generation record, logs). */
  decisions: string[];
}
