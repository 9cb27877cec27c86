import type { ChatCall } from './chat-call';
import { upstreamSignalOf } from './chat-call';

describe('upstreamSignalOf', () => {
  const callWith = (client: AbortController) => ({ signal: client.signal }) as unknown as ChatCall;

  it("keeps a non-streamed call going when the client leaves, cuts it at the deadline or shutdown, and lets go of both signals once disposed", () => {
    const client = new AbortController();
    const deadline = new AbortController();
    const up = upstreamSignalOf(callWith(client), deadline.signal);
    client.abort(new Error('client left'));
    expect(up.signal.aborted).toBe(false);
    deadline.abort(new Error('total timeout'));
    expect(up.signal.aborted).toBe(true);

    const later = upstreamSignalOf(callWith(new AbortController()), undefined);
    later.cut();
    expect(later.signal.aborted).toBe(true);

    // Disposed (the request ended): the signals it listened to no longer reach it.
    const client2 = new AbortController();
    const deadline2 = new AbortController();
    const done = upstreamSignalOf(callWith(client2), deadline2.signal);
    done.dispose();
    deadline2.abort();
    expect(done.signal.aborted).toBe(false);
  });
});
