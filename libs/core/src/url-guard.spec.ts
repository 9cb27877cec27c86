import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { DomainError } from './errors';
import {
  assertPublicUrl,
  blockedAddressReason,
  createGuardedAgent,
  guardedFetch,
  parseIPv6,
  refuseRedirect,
  resolvePublic,
  urlGuardErrorOf,
  UrlGuardError,
  type HostResolver,
} from './url-guard';

const PUBLIC = '93.184.215.14';
const fakeDns = (table: Record<string, string[]>): HostResolver => async (host) => {
  const answers = table[host.toLowerCase()];
  if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const dns = fakeDns({ 'api.example.com': [PUBLIC], 'rebind.example.com': ['127.0.0.1'], 'mixed.example.com': [PUBLIC, '10.0.0.7'], 'v6.example.com': ['2606:4700::6810:84e5'] });

describe('blockedAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'], ['169.254.169.254', 'link-local'], ['100.64.0.1', 'carrier-grade'], ['100.127.255.255', 'carrier-grade'],
    ['0.0.0.0', 'this network'], ['224.0.0.1', 'multicast'], ['255.255.255.255', 'reserved'], ['198.18.0.1', 'benchmark'],
    ['::1', 'loopback'], ['::', 'unspecified'], ['::ffff:127.0.0.1', 'IPv4-mapped'], ['::ffff:7f00:1', 'IPv4-mapped'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped'], ['::127.0.0.1', 'IPv4-compatible'], ['fd00:ec2::254', 'unique-local'], ['fc00::1', 'unique-local'],
    ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['fec0::1', 'site-local'], ['ff02::1', 'multicast'], ['64:ff9b::7f00:1', 'NAT64'],
    ['2002:7f00:1::', '6to4'], ['2001:db8::1', 'documentation'], ['2001::1', 'Teredo'], ['[::1]', 'loopback'],
  ])('refuses %s (%s)', (ip, why) => {
    expect(blockedAddressReason(ip)).toContain(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::6810:84e5', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::'])('allows public %s', (ip) => {
    expect(blockedAddressReason(ip)).toBeNull();
  });

  it('parses IPv6 forms exactly', () => {
    expect(Buffer.from(parseIPv6('::ffff:127.0.0.1')!).toString('hex')).toBe('00000000000000000000ffff7f000001');
    expect(Buffer.from(parseIPv6('1:2:3:4:5:6:1.2.3.4')!).toString('hex')).toBe('00010002000300040005000601020304');
    expect(Buffer.from(parseIPv6('::')!).toString('hex')).toBe('0'.repeat(32));
    expect(parseIPv6('not-an-ip')).toBeNull();
    expect(parseIPv6('1.2.3.4')).toBeNull();
  });
});

describe('assertPublicUrl with a scheme and port policy', () => {
  const policy = { httpsOnly: true, ports: new Set([443]) };
  const check = (url: string) => assertPublicUrl(url, { allowPrivate: true, policy, param: 'base_url' });

  it('takes https on an allowed port', async () => {
    expect((await check('https://api.example.com/v1')).hostname).toBe('api.example.com');
    expect((await check('https://api.example.com:443/v1')).hostname).toBe('api.example.com');
  });

  it.each([
    ['http://api.example.com/v1', 'must use https'],
    ['https://api.example.com:6379/v1', 'must not use port 6379'],
    ['https://api.example.com:80/v1', 'must not use port 80'],
  ])('refuses %s', async (url, message) => {
    await expect(check(url)).rejects.toThrow(message);
  });

  it('without a policy, takes http on any port (development, tests)', async () => {
    expect((await assertPublicUrl('http://api.example.com:8000/v1', { allowPrivate: true })).port).toBe('8000');
  });
});

describe('assertPublicUrl', () => {
  const check = (url: string) => assertPublicUrl(url, { allowPrivate: false, resolver: dns, param: 'base_url' });

  it.each([
    'http://127.0.0.1:8080/v1', 'http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://017700000001/', 'http://127.1/',
    'http://0x7f.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/', 'http://0.0.0.0/', 'http://[::]/', 'http://100.64.1.1/',
    'http://10.0.0.1/', 'http://192.168.0.10/', 'http://172.20.0.1/', 'http://rebind.example.com/v1', 'http://mixed.example.com/',
    'http://unknown-host.example.com/', 'ftp://api.example.com/', 'http://user:pw@api.example.com/', 'not a url', 'file:///etc/passwd',
  ])('refuses %s with a 400 naming the field', async (url) => {
    const e = await check(url).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).details.param).toBe('base_url');
    expect((e as DomainError).message).toMatch(/^base_url /);
  });

  it('refuses names that resolve to loopback through the real resolver (localhost)', async () => {
    await expect(assertPublicUrl('http://localhost:1234/', { allowPrivate: false })).rejects.toThrow(/loopback/);
    await expect(assertPublicUrl('http://LocalHost:1234/', { allowPrivate: false })).rejects.toThrow(/loopback/);
    // A trailing dot either resolves to loopback or not at all: refused both ways.
    await expect(assertPublicUrl('http://localhost./', { allowPrivate: false })).rejects.toBeInstanceOf(DomainError);
  });

  it('accepts public hosts, and private ones when the operator allows them', async () => {
    await expect(check('https://api.example.com/v1')).resolves.toBeInstanceOf(URL);
    await expect(check('https://v6.example.com/v1')).resolves.toBeInstanceOf(URL);
    await expect(check('https://8.8.8.8/v1')).resolves.toBeInstanceOf(URL);
    await expect(assertPublicUrl('http://127.0.0.1:11434/v1', { allowPrivate: true })).resolves.toBeInstanceOf(URL);
    await expect(assertPublicUrl('ftp://127.0.0.1/', { allowPrivate: true })).rejects.toThrow(/http/);
  });

  it('returns the first public answer for connections', async () => {
    await expect(resolvePublic('api.example.com', dns)).resolves.toEqual({ address: PUBLIC, family: 4 });
    await expect(resolvePublic('[::1]', dns)).rejects.toBeInstanceOf(UrlGuardError);
  });
});

describe('createGuardedAgent and guardedFetch', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/landed` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host: req.headers.host }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const refusedBy = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    return urlGuardErrorOf(e);
  };

  it('refuses loopback at connect time: literal, IPv6-mapped and names resolving to it', async () => {
    const agent = createGuardedAgent({ allowPrivate: false });
    try {
      for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://2130706433:${port}/`]) {
        const e = await refusedBy(guardedFetch(url, {}, agent));
        expect(e?.reason).toBe('blocked_address');
      }
      const viaRequest = await refusedBy(request(`http://127.0.0.1:${port}/`, { dispatcher: agent }));
      expect(viaRequest?.reason).toBe('blocked_address');
      expect(hits).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });

  it('catches DNS rebinding: a name checked as public at write time resolves to loopback at connect time', async () => {
    let calls = 0;
    const rebinding: HostResolver = async () => [{ address: calls++ === 0 ? PUBLIC : '127.0.0.1', family: 4 }];
    await expect(assertPublicUrl('http://flip.example.com/', { allowPrivate: false, resolver: rebinding })).resolves.toBeInstanceOf(URL);
    const agent = createGuardedAgent({ allowPrivate: false, resolver: rebinding });
    try {
      const e = await refusedBy(guardedFetch(`http://flip.example.com:${port}/`, {}, agent));
      expect(e?.reason).toBe('blocked_address');
      expect(hits).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });

  it('connects to the resolved address when it is allowed, keeping the Host header', async () => {
    const agent = createGuardedAgent({ allowPrivate: true });
    try {
      const res = await guardedFetch(`http://localhost:${port}/ok`, {}, agent);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { host: string }).host).toBe(`localhost:${port}`);
    } finally {
      await agent.close();
    }
  });

  it('never follows redirects, even where private addresses are allowed', async () => {
    hits.length = 0;
    const agent = createGuardedAgent({ allowPrivate: true });
    try {
      const e = await refusedBy(guardedFetch(`http://127.0.0.1:${port}/redirect`, {}, agent));
      expect(e?.reason).toBe('redirect');
      expect(hits).toEqual(['/redirect']);
      const raw = await request(`http://127.0.0.1:${port}/redirect`, { dispatcher: agent });
      await raw.body.dump();
      expect(() => refuseRedirect(raw.statusCode)).toThrow(UrlGuardError);
      expect(hits).toEqual(['/redirect', '/redirect']);
    } finally {
      await agent.close();
    }
  });
});
