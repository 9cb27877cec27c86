import { DomainError, ErrorCode, statusOf } from '@gw/core';
import type { CatalogCache } from '../catalog/catalog-cache';
import type { ProviderEndpoints } from '../upstream/provider-endpoints';
import type { ProviderHealth } from './provider-health.service';
import { RoutePlanner, type RoutedRequest } from './route-planner.service';

describe('RoutePlanner before the catalog has loaded (a gateway started during a Postgres outage)', () => {
  it('answers a retryable 503, not "unknown model"', () => {
    const catalog = { loaded: false, get: () => undefined, equivalents: () => [] } as unknown as CatalogCache;
    const planner = new RoutePlanner(catalog, {} as ProviderEndpoints, {} as ProviderHealth);
    const request = { body: { model: 'openai/gpt-4o-mini' } } as unknown as RoutedRequest;
    let thrown: unknown;
    try {
      planner.plan(request);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    const e = thrown as DomainError;
    expect([e.code, statusOf(e.code), e.details.retryAfterSeconds]).toEqual([ErrorCode.ServiceUnavailable, 503, 2]);
    expect(e.message).toMatch(/catalog has not loaded/);
  });
});
