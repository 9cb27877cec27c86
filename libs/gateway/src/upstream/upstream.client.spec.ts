import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DomainError, loadConfig } from '@gw/core';
import { UpstreamClient } from './upstream.client';

/** A local server answering JSON of the size asked for in the path, with or without a declared length. */
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, size] = req.url!.split('/');
    const body = JSON.stringify({ text: 'x'.repeat(Number(size)) });
    if (mode === 'error') res.writeHead(500, { 'content-type': 'application/json' });
    else if (mode === 'declared') res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    else res.writeHead(200, { 'content-type': 'application/json' });
    // Written in pieces so an undeclared answer arrives chunked, as a streaming server sends it.
    for (let i = 0; i < body.length; i += 16_384) res.write(body.slice(i, i + 16_384));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('UpstreamClient.readJson', () => {
  const client = new UpstreamClient(loadConfig({ UPSTREAM_MAX_RESPONSE_BYTES: '100000' }));
  afterAll(() => client.onModuleDestroy());
  const read = async (mode: string, size: number) => {
    const res = await client.post({ url: `${base}/${mode}/${size}`, headers: {}, body: '{}' }, new AbortController().signal);
    return client.readJson(res);
  };

  it.each(['declared', 'chunked'])('reads a %s answer within the cap', async (mode) => {
    expect(await read(mode, 90_000)).toEqual({ text: 'x'.repeat(90_000) });
  });

  it.each(['declared', 'chunked'])('refuses a %s answer over the cap as a retryable bad response', async (mode) => {
    const err = await read(mode, 200_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'upstream_bad_response', details: { retryable: true, meta: { reason: 'response_too_large' } } });
  });
});

describe('UpstreamClient.readErrorText', () => {
  const client = new UpstreamClient(loadConfig({}));
  afterAll(() => client.onModuleDestroy());

  it('keeps the start of an error answer and discards the rest instead of buffering it', async () => {
    const small = await client.post({ url: `${base}/error/100`, headers: {}, body: '{}' }, new AbortController().signal);
    expect(await client.readErrorText(small)).toBe(JSON.stringify({ text: 'x'.repeat(100) }));
    const huge = await client.post({ url: `${base}/error/5000000`, headers: {}, body: '{}' }, new AbortController().signal);
    const text = await client.readErrorText(huge);
    expect(text.length).toBe(64 * 1024);
    expect(text.startsWith('{"text":"xxx')).toBe(true);
  });
});
