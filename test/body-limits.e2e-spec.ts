import { request } from 'node:http';
import { fundedTenant, startTestApp, type TestApp } from './support/test-app';

/**
 * Oversized and non-JSON bodies (reliability T08, T09): refused in the OpenAI error shape as soon
 * as the limit is crossed, before the whole upload, with no hold taken and no provider called.
 */
jest.setTimeout(60_000);
const LIMIT = 64 * 1024;
let t: TestApp;
let tenant: Awaited<ReturnType<typeof fundedTenant>>;

beforeAll(async () => {
  t = await startTestApp({ BODY_LIMIT_BYTES: String(LIMIT) }, { billingWorker: false });
  tenant = await fundedTenant(t, 1);
});
afterAll(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  body: { error?: { code: string; type: string; message: string } };
  /** Bytes of the body written when the answer arrived. */
  sentBeforeAnswer: number;
}

/**
 * POSTs to /v1/chat/completions, writing `total` bytes of body in 4 KiB pieces with a pause
 * between them, and stops writing as soon as an answer arrives.
 */
function upload(opts: { total: number; contentLength?: number; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.url}/v1/chat/completions`);
    const headers: Record<string, string | number> = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', ...opts.headers };
    if (opts.contentLength !== undefined) headers['content-length'] = opts.contentLength;
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Answer['body']) : {}, sentBeforeAnswer: sent });
        req.destroy();
      });
    });
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const piece = Buffer.alloc(4096, 0x20);
    const writeMore = () => {
      if (answered || req.destroyed) return;
      if (sent >= opts.total) {
        req.end();
        return;
      }
      const n = Math.min(piece.length, opts.total - sent);
      sent += n;
      req.write(piece.subarray(0, n), () => setTimeout(writeMore, 2));
    };
    writeMore();
  });
}

async function nothingHeldOrCalled(): Promise<void> {
  expect(t.openai.requests).toHaveLength(0);
  expect((await t.credits.getCredits(tenant.tenantId))!.reserved).toBe(0n);
}

afterEach(() => t.openai.reset().setDefaults({}));

describe('an oversized body', () => {
  it('with a Content-Length over the limit: 413 before the body is sent', async () => {
    const r = await upload({ total: 10 * LIMIT, contentLength: 10 * LIMIT });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'request_too_large', type: 'invalid_request_error' });
    expect(r.sentBeforeAnswer).toBeLessThan(10 * LIMIT);
    await nothingHeldOrCalled();
  });

  it('chunked, without a Content-Length: 413 once the limit is crossed, not after the whole upload', async () => {
    const r = await upload({ total: 64 * LIMIT, headers: { 'transfer-encoding': 'chunked' } });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'request_too_large' });
    expect(r.sentBeforeAnswer).toBeLessThan(8 * LIMIT);
    await nothingHeldOrCalled();
  });

  it('leaves the gateway serving', async () => {
    t.openai.enqueue({ text: 'still here' });
    const r = await tenant.client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0].message.content).toBe('still here');
  });
});

describe('a body that is not JSON', () => {
  const post = (body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${tenant.apiKey}`, ...headers }, body });

  it.each([
    ['text/plain', 'hello', { 'content-type': 'text/plain' }, 'invalid_body'],
    ['an empty JSON body', '', { 'content-type': 'application/json' }, 'invalid_json'],
    ['a top-level JSON array', '[{"model":"openai/gpt-4o-mini"}]', { 'content-type': 'application/json' }, 'invalid_body'],
    // Never decompressed: a gzip bomb stays its compressed size (here: gzip's magic bytes, not UTF-8).
    ['a gzip-encoded body', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xfe]), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'invalid_utf8'],
  ])('%s: 400 in the OpenAI shape, nothing held or called', async (_what, body, headers, code) => {
    const r = await post(body, headers as Record<string, string>);
    expect(r.status).toBe(400);
    const answer = (await r.json()) as { error: { code: string; type: string } };
    expect(answer.error).toMatchObject({ code, type: 'invalid_request_error' });
    await nothingHeldOrCalled();
  });
});
