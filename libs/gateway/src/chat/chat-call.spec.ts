import { upstreamSignalOf } from './chat-call';

describe('upstreamSignalOf', () => {
  it('is aborted by the shutdown or the deadline, never by the client (not among its sources)', () => {
    const shutdown = new AbortController();
    expect(upstreamSignalOf(shutdown.signal, undefined)).toBe(shutdown.signal);
    const deadline = new AbortController();
    const both = upstreamSignalOf(shutdown.signal, deadline.signal);
    expect(both.aborted).toBe(false);
    deadline.abort(new Error('total timeout'));
    expect(both.aborted).toBe(true);
    const other = upstreamSignalOf(shutdown.signal, new AbortController().signal);
    shutdown.abort(new Error('shutting down'));
    expect(other.aborted).toBe(true);
  });
});
