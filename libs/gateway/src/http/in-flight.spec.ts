import { loadConfig } from '@gw/core';
import { cutByShutdown, InFlight } from './in-flight';

describe('InFlight drain', () => {
  it('at the drain deadline cuts the requests still running and the upstream work that outlived its client', async () => {
    const inFlight = new InFlight(loadConfig({ DRAIN_TIMEOUT_MS: '50' }));
    const request = new AbortController();
    // A request whose client already left: its own controller is aborted and cannot carry the cut.
    request.abort(new Error('client left'));
    const upstream = inFlight.cutSignal;
    const running = new Promise<void>((resolve) => upstream.addEventListener('abort', () => resolve()));
    inFlight.track(running, request);
    expect(upstream.aborted).toBe(false);
    await inFlight.drain();
    expect(cutByShutdown(upstream)).toBe(true);
    expect(cutByShutdown(request.signal)).toBe(false);
  });
});
