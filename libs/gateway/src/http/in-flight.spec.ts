import { loadConfig } from '@gw/core';
import { cutByShutdown, InFlight } from './in-flight';

describe('InFlight drain', () => {
  it('cuts, at the drain deadline, work registered with onCut as well as the requests still running; an unregistered one is left alone', async () => {
    const inFlight = new InFlight(loadConfig({ DRAIN_TIMEOUT_MS: '50' }));
    const request = new AbortController();
    const upstream = new AbortController();
    const other = new AbortController();
    // A request whose client already left: its own controller is aborted and cannot carry the cut.
    request.abort(new Error('client left'));
    inFlight.onCut(() => upstream.abort(new Error('cut')));
    inFlight.onCut(() => other.abort())();
    const running = new Promise<void>((resolve) => upstream.signal.addEventListener('abort', () => resolve()));
    inFlight.track(running, request);
    await inFlight.drain();
    expect(upstream.signal.aborted).toBe(true);
    expect(other.signal.aborted).toBe(false);
    expect(cutByShutdown(request.signal)).toBe(false);
  });
});
