import { request, type IncomingMessage } from 'node:http';
import { ledgerSum, waitFor } from './support/billing';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * A slow reader (reliability T22): the gateway relays a stream no faster than its client reads
 * it, so a client that stops reading stops the upstream too, and the gateway never holds a whole
 * fast stream in memory for a slow client. When the client reads again, the stream arrives
 * whole and is charged once.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 48 MiB of text in 6144 deltas of 8 KiB: more than every socket and stream buffer on the way holds. */
const STREAM_BYTES = 48 * 1024 * 1024;

function openStream(apiKey: string): Promise<IncomingMessage> {
  const body = JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'a long one' }] });
  return new Promise((resolve, reject) => {
    // An idle timeout shorter than the client's pause below: waiting for the client is not the
    // provider's silence, and must not end the stream.
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '800' };
    const req = request(`${t.url}/v1/chat/completions`, { method: 'POST', headers }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

it('holds the upstream back while the client does not read, then relays the whole stream and charges it once', async () => {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 5)).status).toBe(201);
  const text = ('x'.repeat(1023) + ' ').repeat(STREAM_BYTES / 1024);
  t.openai.enqueue({ text, deltas: 6144, promptTokens: 5, completionTokens: 100, ignoreMaxTokens: true });

  const res = await openStream(s.apiKey);
  expect(res.statusCode).toBe(200);
  const requestId = String(res.headers['x-request-id']);
  // The client reads nothing for 2 s. A gateway that read the upstream regardless would have
  // taken all 48 MiB off the fake in well under that (it relays over 100 MB/s here).
  await sleep(2000);
  const upstream = t.openai.lastRequest()!;
  expect(upstream.finishedAt).toBeUndefined();
  expect(upstream.clientAborted).toBe(false);

  let bytes = 0;
  let tail = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  }
  expect(bytes).toBeGreaterThan(STREAM_BYTES);
  expect(tail).toContain('"completion_tokens":100');
  expect(tail.trimEnd().endsWith('data: [DONE]')).toBe(true);
  expect(upstream.finishedAt).toBeDefined();

  await t.drain();
  const credits = (await t.credits.getCredits(s.tenantId))!;
  expect(credits.reserved).toBe(0n);
  expect(credits.balance).toBeLessThan(5_000_000n);
  await waitFor('the usage in the ledger', async () => (await ledgerSum(t, s.tenantId)) === credits.balance);
  const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId } });
  expect(log).toMatchObject({ status: 200, stream: true, promptTokens: 5, completionTokens: 100 });
  expect(await t.prisma.ledgerEntry.count({ where: { tenantId: s.tenantId, kind: 'usage' } })).toBe(1);
}, 60_000);
