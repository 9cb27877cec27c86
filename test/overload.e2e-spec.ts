import { setTimeout as sleep } from 'node:timers/promises';
import { postChat, startTestApp, type TestApp } from './support/test-app';

/**
 * Load shedding (reliability L4): while the event loop is overloaded, new requests get 503 with
 * Retry-After at once instead of queueing. The app runs in this process, so blocking this
 * process's event loop is blocking the gateway's.
 */

/** A test app shedding above `maxDelayMs`, and the key of a funded tenant. */
async function funded(maxDelayMs: number): Promise<{ app: TestApp; key: string }> {
  const app = await startTestApp({ OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: String(maxDelayMs) }, { billingWorker: false });
  // Start-up itself keeps the loop busy past a low threshold: let the samples settle.
  await sleep(400);
  const s = await app.signup();
  expect((await app.grant(s.tenantId, 1)).status).toBe(201);
  return { app, key: s.apiKey };
}

let t: TestApp;
let apiKey: string;
beforeAll(async () => {
  ({ app: t, key: apiKey } = await funded(20));
});
afterAll(async () => {
  await t?.close();
});

/** Keeps the event loop busy, as a backlog of work would. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('an overloaded gateway sheds load', () => {
  it('answers 503 with Retry-After in each surface\'s shape, keeps /healthz, calls no provider, and recovers', async () => {
    expect((await postChat(t, apiKey)).status).toBe(200);
    const upstreamBefore = t.openai.requests.length;
    // A sustained backlog: the loop stalls 80 ms out of every ~90 until stopped. Every 100 ms
    // sample of the delay monitor then sees the stalls, whichever timer fires first after a stall
    // (one single stall could be read by the plugin's sample before the monitor recorded it).
    const backlog = setInterval(() => block(80), 10);
    let replies: Response[];
    try {
      await sleep(400);
      replies = await Promise.all([
        postChat(t, apiKey),
        fetch(`${t.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
        }),
        fetch(`${t.url}/healthz`),
        fetch(`${t.url}/readyz`),
        fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.c","password":"x"}' }),
      ]);
    } finally {
      clearInterval(backlog);
    }
    const [chat, messages, health, ready, api] = replies;
    expect(chat.status).toBe(503);
    expect(chat.headers.get('retry-after')).toBe('1');
    expect(await chat.json()).toMatchObject({ error: { code: 'service_unavailable', message: expect.stringContaining('overloaded') } });
    // Anthropic's overloaded_error (529), which its SDK retries.
    expect(messages.status).toBe(529);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(health.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'overloaded' });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    expect(await api.json()).toMatchObject({ error: { code: 'service_unavailable' } });
    expect(t.openai.requests.length).toBe(upstreamBefore);
    // The next samples see an idle loop: served again.
    await sleep(400);
    expect((await postChat(t, apiKey)).status).toBe(200);
  });
});

describe('a backlog of long turns', () => {
  it('is shed too when every turn outlasts a delay sample (each sample window then records nothing)', async () => {
    // Work run from the check phase, ~110 ms a turn: the plugin's 100 ms window sees one turn at
    // most and reports an infinite delay; the gateway's own measure must call it ~100 ms, not 0.
    let running = true;
    const turn = () => {
      block(110);
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    let status: number;
    try {
      await sleep(400);
      status = (await postChat(t, apiKey)).status;
    } finally {
      running = false;
    }
    expect(status).toBe(503);
    await sleep(400);
    expect((await postChat(t, apiKey)).status).toBe(200);
  });
});

describe('a busy but keeping-up gateway does not shed', () => {
  let calm: TestApp;
  let calmKey: string;
  beforeAll(async () => {
    ({ app: calm, key: calmKey } = await funded(500));
  });
  afterAll(async () => {
    await calm?.close();
  });

  it('serves right after single stalls shorter than the threshold (a GC pause, a descheduled process)', async () => {
    // Node's delay histogram forgets its last timestamp when reset, so a 100 ms window in which
    // its timer fired once records nothing; the plugin reads that as an infinite delay. Without
    // the gateway's own measure of such a window, a stall starting just after a sample shed ~1 in 10 of these.
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      await sleep(5 + (i % 7) * 4);
      block(120);
      statuses.push((await postChat(calm, calmKey)).status);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
