import { postChat, startTestApp, type TestApp } from './support/test-app';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Postgres unreachable while serving (reliability T58): the hot path never reads Postgres for a
 * key or tenant it has seen, even past the caches' TTL; a key it has not seen gets 503 with
 * Retry-After (never a 500), and everything recovers when Postgres is back.
 */
let t: TestApp;
let pg: TcpProxy;

beforeAll(async () => {
  const db = new URL(process.env.DATABASE_URL!);
  pg = new TcpProxy(db.hostname, Number(db.port || 5432));
  db.port = String(await pg.start());
  t = await startTestApp({ DATABASE_URL: db.toString(), KEY_CACHE_TTL_SECONDS: '1' }, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
  await pg?.cut();
});

it('keeps serving known keys past the cache TTL, answers 503 for unseen ones, and recovers', async () => {
  const known = await t.signup();
  const unseen = await t.signup();
  expect((await t.grant(known.tenantId, 1)).status).toBe(201);
  expect((await postChat(t, known.apiKey)).status).toBe(200);

  await pg.cut();
  // Past the 1 s TTL of the key and the tenant: served from memory, charged in Redis as usual.
  await new Promise((r) => setTimeout(r, 1500));
  for (let i = 0; i < 3; i++) expect((await postChat(t, known.apiKey)).status).toBe(200);

  const refused = await postChat(t, unseen.apiKey);
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('5');
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');

  await pg.restore();
  // The unseen key's tenant has no credits: once Postgres answers, the key is known and the
  // reserve script refuses it for money, not for the outage.
  let status = 0;
  for (let i = 0; i < 50 && status !== 402; i++) {
    status = (await postChat(t, unseen.apiKey)).status;
    if (status !== 402) await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(402);
  expect((await postChat(t, known.apiKey)).status).toBe(200);
});
