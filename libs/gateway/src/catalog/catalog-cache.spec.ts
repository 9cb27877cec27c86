import { ReadinessGates } from '@gw/core';
import type { CatalogRepository } from '@gw/db';
import type { InvalidationBus } from '@gw/metering';
import { CatalogCache } from './catalog-cache';

type Row = Awaited<ReturnType<CatalogRepository['listEnabled']>>[number];

const row = (id: string, input: bigint): Row =>
  ({
    id,
    provider: 'openai',
    upstreamId: id.split('/')[1],
    canonicalId: null,
    name: id,
    contextLength: 1000,
    maxOutputTokens: 100,
    inputPrice: input,
    outputPrice: 1n,
    cacheReadPrice: null,
    cacheWritePrice: null,
    cacheWrite1hPrice: null,
    capabilities: [],
    updatedAt: new Date(0),
  }) as unknown as Row;

describe('CatalogCache.refresh', () => {
  it('never installs an older read over a newer one when reads finish out of order', async () => {
    const pending: ((rows: Row[]) => void)[] = [];
    const repo = { listEnabled: () => new Promise<Row[]>((resolve) => pending.push(resolve)) } as unknown as CatalogRepository;
    const cache = new CatalogCache(repo, {} as InvalidationBus, new ReadinessGates());
    const older = cache.refresh();
    const newer = cache.refresh();
    // The newer read (after an operator's price change) answers first ...
    pending[1]([row('openai/m', 2n)]);
    await newer;
    expect(cache.get('openai/m')?.price.input).toBe(2n);
    // ... and the older one, read before the change, must not undo it.
    pending[0]([row('openai/m', 1n)]);
    await older;
    expect(cache.get('openai/m')?.price.input).toBe(2n);
  });
});

describe('CatalogCache at start', () => {
  it('holds readiness and retries every second until the first load succeeds (Postgres still coming up)', async () => {
    jest.useFakeTimers();
    try {
      let failures = 2;
      const repo = {
        listEnabled: () => (failures-- > 0 ? Promise.reject(new Error("Can't reach database server")) : Promise.resolve([row('openai/m', 1n)])),
      } as unknown as CatalogRepository;
      const gates = new ReadinessGates();
      const cache = new CatalogCache(repo, { listen: () => Promise.resolve() } as unknown as InvalidationBus, gates);
      await cache.onModuleInit();
      expect([cache.loaded, gates.pending()]).toEqual([false, { catalog: expect.stringContaining('catalog') }]);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(cache.loaded).toBe(false);
      await jest.advanceTimersByTimeAsync(1_000);
      expect([cache.loaded, gates.pending(), cache.get('openai/m')?.id]).toEqual([true, {}, 'openai/m']);
      cache.onModuleDestroy();
    } finally {
      jest.useRealTimers();
    }
  });
});
