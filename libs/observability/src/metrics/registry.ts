import { register, type Metric } from 'prom-client';

/** Metrics are process-wide (prom-client's default registry, served by OpsModule); a second app in one process (tests) reuses them. */
export function metric<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** Resolves to undefined after `ms` instead of hanging a scrape on a dead connection. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}
