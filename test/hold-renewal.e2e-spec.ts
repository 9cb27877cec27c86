import { ledgerSum, waitFor } from './support/billing';
import { postChat, startTestApp, type TestApp } from './support/test-app';

/**
 * A hold lives HOLD_TTL_SECONDS unless renewed, and the billing worker sweeps expired holds every
 * 5 s. A request holds its money from the reservation to the settle, whatever the mode: a
 * non-streamed answer or a stream's first byte can take longer than one hold lifetime, and a
 * swept hold would let the tenant spend the same credits a second time.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ HOLD_TTL_SECONDS: '10' });
});
afterAll(async () => {
  await t?.close();
});

/** gpt-4o with max_tokens 9900: a hold of about 0.099 USD; the fake answers 9000 tokens (0.09). */
const post = (key: string, stream = false) => postChat(t, key, { model: 'openai/gpt-4o', max_tokens: 9900, stream }, { 'x-gateway-first-byte-timeout-ms': '60000' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('keeps the hold of a non-streamed request and of a stream waiting for its first byte past the hold lifetime', async () => {
  const plain = await t.signup();
  const streamed = await t.signup();
  for (const s of [plain, streamed]) expect((await t.grant(s.tenantId, 0.12)).status).toBe(201);
  t.openai.enqueue({ headerDelayMs: 17_000, completionTokens: 9000, promptTokens: 5 }, { headerDelayMs: 17_000, completionTokens: 9000, promptTokens: 5 });
  const slow = [post(plain.apiKey).then(async (r) => ({ status: r.status, text: await r.text() })), post(streamed.apiKey, true).then(async (r) => ({ status: r.status, text: await r.text() }))];

  // Past the hold lifetime (10 s) and a sweep (every 5 s): both holds are still there, so the
  // tenants cannot start a second request their balance does not cover.
  await sleep(15_500);
  for (const s of [plain, streamed]) expect((await t.credits.getCredits(s.tenantId))!.reserved).toBeGreaterThan(0n);
  const second = await post(plain.apiKey);
  expect(second.status).toBe(402);
  await second.text();

  const [a, b] = await Promise.all(slow);
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  expect(b.text).toContain('[DONE]');
  await t.drain();
  for (const s of [plain, streamed]) {
    const c = (await t.credits.getCredits(s.tenantId))!;
    expect(c).toMatchObject({ reserved: 0n });
    expect(c.balance).toBeGreaterThanOrEqual(0n);
    // The billing worker's own scheduled drain may hold the event in a batch it is writing.
    await waitFor('the usage in the ledger', async () => (await ledgerSum(t, s.tenantId)) === c.balance);
  }
}, 60_000);
