import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, register, type Metric } from 'prom-client';
import type { TokenUsage } from '@gw/core';
import { ProviderHealth } from '../routing/provider-health.service';
import { PLATFORM_TARGET } from '../routing/route-planner.service';
import type { AttemptRecord } from '../chat/usage-event';

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Metrics are process-wide; a second app in one process (tests) reuses the registered ones. */
function metric<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export interface RequestObservation {
  endpoint: string;
  status: number;
  model: string;
  provider: string;
  stream: boolean;
  usage?: TokenUsage;
  costMicros: bigint;
  attempts: AttemptRecord[];
  overheadMs?: number;
  ttfbMs?: number;
  totalMs: number;
}

/**
 * The data plane's Prometheus metrics, observed once per request when it settles (off the
 * response path): requests, latency (gateway overhead, time to first byte, total), tokens, cost,
 * upstream errors by class, and circuit states from the health snapshot.
 */
@Injectable()
export class GatewayMetrics {
  private readonly requests = metric('gw_requests_total', () => new Counter({ name: 'gw_requests_total', help: 'Requests by endpoint, status, served model and provider', labelNames: ['endpoint', 'status', 'model', 'provider'] }));
  private readonly total = metric('gw_request_duration_seconds', () => new Histogram({ name: 'gw_request_duration_seconds', help: 'Total request time', labelNames: ['endpoint', 'stream'], buckets: SECONDS }));
  private readonly overhead = metric('gw_overhead_seconds', () => new Histogram({ name: 'gw_overhead_seconds', help: 'Gateway time before the upstream call (auth, routing, reservation)', labelNames: ['endpoint'], buckets: SECONDS }));
  private readonly ttfb = metric('gw_time_to_first_byte_seconds', () => new Histogram({ name: 'gw_time_to_first_byte_seconds', help: 'Time to the upstream first byte', labelNames: ['endpoint', 'provider'], buckets: SECONDS }));
  private readonly tokens = metric('gw_tokens_total', () => new Counter({ name: 'gw_tokens_total', help: 'Tokens by model and kind', labelNames: ['model', 'kind'] }));
  private readonly cost = metric('gw_cost_micros_total', () => new Counter({ name: 'gw_cost_micros_total', help: 'Charged cost in micro-USD by model', labelNames: ['model'] }));
  private readonly upstreamErrors = metric('gw_upstream_errors_total', () => new Counter({ name: 'gw_upstream_errors_total', help: 'Failed upstream attempts by provider and error class', labelNames: ['provider', 'error'] }));
  private readonly retriesDenied = metric('gw_retry_budget_exhausted_total', () => new Counter({ name: 'gw_retry_budget_exhausted_total', help: 'Retries not made because the retry budget was spent, by provider', labelNames: ['provider'] }));

  constructor(health: ProviderHealth) {
    const states = { closed: 0, half_open: 1, open: 2 } as const;
    metric('gw_circuit_state', () =>
      new Gauge({
        name: 'gw_circuit_state',
        help: "Circuit state per target (a model on the platform's key): 0 closed, 1 half-open, 2 open",
        labelNames: ['target'],
        collect() {
          this.reset();
          // A tenant's own keys have breakers too; their ids are the tenant's, not the operator's.
          for (const [target, state] of health.states()) if (target.endsWith(PLATFORM_TARGET)) this.set({ target }, states[state]);
        },
      }),
    );
  }

  /** A retry of a failed attempt was refused by the retry budget (the error goes on as it is). */
  retryDenied(provider: string): void {
    this.retriesDenied.inc({ provider });
  }

  observe(o: RequestObservation): void {
    this.requests.inc({ endpoint: o.endpoint, status: String(o.status), model: o.model, provider: o.provider });
    this.total.observe({ endpoint: o.endpoint, stream: String(o.stream) }, o.totalMs / 1000);
    if (o.overheadMs !== undefined) this.overhead.observe({ endpoint: o.endpoint }, o.overheadMs / 1000);
    if (o.ttfbMs !== undefined) this.ttfb.observe({ endpoint: o.endpoint, provider: o.provider }, o.ttfbMs / 1000);
    if (o.usage) {
      const u = o.usage;
      this.tokens.inc({ model: o.model, kind: 'prompt' }, u.promptTokens);
      this.tokens.inc({ model: o.model, kind: 'completion' }, u.completionTokens);
      if (u.cachedTokens) this.tokens.inc({ model: o.model, kind: 'cached' }, u.cachedTokens);
      if (u.reasoningTokens) this.tokens.inc({ model: o.model, kind: 'reasoning' }, u.reasoningTokens);
    }
    if (o.costMicros > 0n) this.cost.inc({ model: o.model }, Number(o.costMicros));
    // Attempts refused before any call (no started_ms) are the gateway's decisions, not upstream errors.
    for (const a of o.attempts) if (a.error && a.started_ms !== undefined) this.upstreamErrors.inc({ provider: a.provider, error: a.error });
  }
}
