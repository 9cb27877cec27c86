import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { CreditStore, RedisKeys } from '@gw/metering';
import { startTestApp, type TestApp } from './support/test-app';

/** The tenant's credits, read with a connection of its own (the app's are closed). */
async function creditsAfterClose(t: TestApp, tenantId: string) {
  const redis = new Redis(t.config.REDIS_URL!);
  try {
    const c = await new CreditStore(redis, new RedisKeys(t.config.REDIS_PREFIX)).getCredits(tenantId);
    if (!c) throw new Error(`no balance for ${tenantId}`);
    return c;
  } finally {
    await redis.quit();
  }
}

/** A test app, a tenant with 1 USD, and a chat request with its key (streamed or not). */
async function fundedApp(env: Record<string, string> = {}) {
  const t = await startTestApp(env, { billingWorker: false });
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 1)).status).toBe(201);
  const post = (stream: boolean) =>
    fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream, messages: [{ role: 'user', content: 'go' }] }),
    });
  return { t, s, post };
}

describe('graceful shutdown', () => {
  it('finishes a running stream and settles its hold before the app closes', async () => {
    const { t, s, post } = await fundedApp();
    t.openai.enqueue({ text: 'a b c d e f g h i j', deltas: 10, chunkDelayMs: 60 });
    const res = await post(true);
    const body = res.text();
    await t.openai.waitForRequests(1);
    const closing = t.close();
    const text = await body;
    await closing;
    expect(text).toContain('data: [DONE]');
    // The stream finished during the drain and its settle ran: no hold is left behind.
    const c = await creditsAfterClose(t, s.tenantId);
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeLessThan(1_000_000n);
  });

  it('answers new requests 503 from the start of a shutdown, before any hold, while the running stream finishes', async () => {
    const { t, s, post } = await fundedApp({ DRAIN_TIMEOUT_MS: '10000' });
    t.openai.enqueue({ text: 'a b c d e f g h i j', deltas: 10, chunkDelayMs: 150 });
    const res = await post(true);
    const body = res.text();
    await t.openai.waitForRequests(1);
    const closing = t.close();
    await new Promise((r) => setTimeout(r, 200));
    const late = await post(false);
    expect(late.status).toBe(503);
    // Refused before the gateway's own handling: no request id, so no hold and no record either.
    expect(late.headers.get('x-request-id')).toBeNull();
    await late.text();
    expect(t.openai.requests).toHaveLength(1);
    const text = await body;
    await closing;
    expect(text).toContain('data: [DONE]');
    const c = await creditsAfterClose(t, s.tenantId);
    // One settled stream, no hold for the refused request.
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeLessThan(1_000_000n);
  });

  it('at the drain deadline cuts what still runs: a stream ends with stream_incomplete and is charged what it delivered, a waiting request gets 503 and costs nothing', async () => {
    const { t, s, post } = await fundedApp({ DRAIN_TIMEOUT_MS: '500' });
    // A 40 s stream and a non-streamed answer 40 s away: both far past the 0.5 s deadline.
    t.openai.enqueue({ text: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '), deltas: 200, chunkDelayMs: 200 }, { headerDelayMs: 40_000 });
    const stream = await post(true);
    const reader = stream.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    const waiting = post(false);
    await t.openai.waitForRequests(2);
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(4000);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).not.toContain('[DONE]');
    const last = JSON.parse(text.trim().split('\n\n').pop()!.slice(6));
    expect(last).toMatchObject({ error: { code: 'stream_incomplete', message: expect.stringContaining('shutting down') }, choices: [{ finish_reason: 'error' }] });
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
    // Both settled before Redis closed: no hold left, and only the delivered stream was charged.
    const c = await creditsAfterClose(t, s.tenantId);
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeLessThan(1_000_000n);
  });

  it('does not wait for a connection that never sent a request (a client pool opening one ahead of need)', async () => {
    const t = await startTestApp({ DRAIN_TIMEOUT_MS: '10000' }, { billingWorker: false });
    const { port } = new URL(t.url);
    const silent = connect(Number(port), '127.0.0.1');
    await new Promise((r) => silent.once('connect', r));
    const closedBy = new Promise<number>((r) => silent.once('close', () => r(Date.now())));
    const started = Date.now();
    // Node's server.close() alone waits for the client to drop it.
    const closing = t.close();
    const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 8000).unref())]);
    silent.destroy();
    await closing;
    expect(outcome).toBe('closed');
    expect((await closedBy) - started).toBeLessThan(5000);
  });
});
