import { connect } from 'node:net';
import { postChat, startTestApp, type TestApp } from './support/test-app';

/**
 * Hostile requests on the data plane (reliability T01, T10, T11, T12, T56): each gets a clear error in
 * the OpenAI shape before any upstream call, and the gateway keeps serving.
 */
let t: TestApp;
let apiKey: string;

beforeAll(async () => {
  t = await startTestApp({ REQUEST_TIMEOUT_MS: '1000' }, { billingWorker: false });
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 1)).status).toBe(201);
  apiKey = s.apiKey;
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset();
});

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; param: string | null; message: string } }).error;

describe('the data plane refuses hostile input', () => {
  it('authenticates before it reads the body: no key or a bad key gets 401 whatever the body', async () => {
    const raw = (headers: Record<string, string>, body: string) => fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer sk-gw-garbage' }]) {
      for (const body of ['{"model": 1}', '{not json', '[]']) {
        const res = await raw(headers, body);
        expect([JSON.stringify(headers), body, res.status]).toEqual([JSON.stringify(headers), body, 401]);
        expect((await errorOf(res)).code).toBe('invalid_api_key');
      }
    }
    // With a good key the same bodies are the client's mistake: 400.
    expect((await raw({ authorization: `Bearer ${apiKey}` }, '{not json')).status).toBe(400);
  });

  it('refuses JSON nested deeper than 64 levels with 400 (not a 500 from a stack overflow), then serves normally', async () => {
    const depth = 100_000;
    const content = `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":${content}}]}`,
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'invalid_body', message: expect.stringContaining('deeper than 64') });
    expect(t.openai.requests).toHaveLength(0);
    expect((await postChat(t, apiKey)).status).toBe(200);
  });

  it('refuses bodies that are not valid UTF-8 text with 400 invalid_utf8, on both surfaces, and calls no provider', async () => {
    const send = (path: string, body: Buffer) =>
      fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body });
    const chat = (content: Buffer) => Buffer.concat([Buffer.from('{"model":"openai/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"'), content, Buffer.from('"}]}')]);
    // An invalid byte pair, an overlong encoding of "/", and a CESU-8 (UTF-8-encoded) surrogate.
    for (const bad of [Buffer.from([0xc3, 0x28]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const res = await send('/v1/chat/completions', chat(bad));
      expect([bad.toString('hex'), res.status]).toEqual([bad.toString('hex'), 400]);
      expect(await errorOf(res)).toMatchObject({ code: 'invalid_utf8' });
    }
    // A lone surrogate escape is valid JSON but not text.
    const lone = await send('/v1/chat/completions', chat(Buffer.from('\\ud800 alone')));
    expect(lone.status).toBe(400);
    expect(await errorOf(lone)).toMatchObject({ code: 'invalid_utf8', message: expect.stringContaining('surrogate') });
    // In a key too (unknown fields reach OpenAI-family providers as sent).
    const key = await send('/v1/chat/completions', Buffer.from('{"model":"openai/gpt-4o-mini","\\udc00":1,"messages":[{"role":"user","content":"hi"}]}'));
    expect(await errorOf(key)).toMatchObject({ code: 'invalid_utf8' });
    // Every app's JSON routes, not only the data plane.
    const login = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"email":"a@b.c","password":"\\ud800"}') });
    expect(login.status).toBe(400);
    expect(await errorOf(login)).toMatchObject({ code: 'invalid_utf8' });
    const anthropic = await send('/v1/messages', chat(Buffer.from([0xc3, 0x28])));
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(t.openai.requests).toHaveLength(0);
    // Valid multi-byte text and a paired surrogate escape are served as sent.
    const ok = await send('/v1/chat/completions', chat(Buffer.from('h\u00e9llo \\ud83d\\ude00 \u4f60\u597d 🎉')));
    expect(ok.status).toBe(200);
    expect((t.openai.lastRequest()!.body as { messages: { content: string }[] }).messages[0].content).toBe('h\u00e9llo 😀 你好 🎉');
  });

  it('refuses fields that would pick the upstream or its credentials, naming them, and calls no provider', async () => {
    for (const field of ['api_key', 'api_base', 'base_url', 'extra_headers']) {
      const res = await postChat(t, apiKey, { [field]: field === 'extra_headers' ? { authorization: 'Bearer x' } : 'http://169.254.169.254/' });
      expect([field, res.status]).toEqual([field, 400]);
      expect(await errorOf(res)).toMatchObject({ code: 'invalid_body', param: field });
    }
    expect(t.openai.requests).toHaveLength(0);
  });

  it('answers 408 and closes a connection whose body trickles in past REQUEST_TIMEOUT_MS', async () => {
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const started = Date.now();
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`);
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = await Promise.race([new Promise((r) => socket.once('close', () => r(true))), new Promise((r) => setTimeout(() => r(false), 5000).unref())]);
    socket.destroy();
    expect(closed).toBe(true);
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'request_timeout', param: null } });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(t.openai.requests).toHaveLength(0);
  });
});
