import { Logger } from '@nestjs/common';
import { createRootLogger, PinoNestLogger, requestContext, scrubSecrets } from './logging';

function capture(level: 'trace' | 'info' | 'silent' = 'trace') {
  const lines: string[] = [];
  const root = createRootLogger({ LOG_LEVEL: level }, { name: 'test', destination: { write: (s: string) => void lines.push(s) } });
  return { nest: new PinoNestLogger(root), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), raw: () => lines.join('') };
}

describe('application logs', () => {
  afterEach(() => Logger.overrideLogger(false));

  it('are one JSON object per line with level name, time, app, context and the request id being served', () => {
    const { nest, parsed } = capture();
    Logger.overrideLogger(nest);
    new Logger('billing').log('drained 3 events');
    requestContext.run({ id: 'req-abc' }, () => new Logger('admin').warn('slow query'));
    const [a, b] = parsed();
    expect(a).toMatchObject({ level: 'info', app: 'test', context: 'billing', msg: 'drained 3 events' });
    expect(typeof a!.time).toBe('string');
    expect(a!.req_id).toBeUndefined();
    expect(b).toMatchObject({ level: 'warn', context: 'admin', msg: 'slow query', req_id: 'req-abc' });
  });

  it('keep an error stack apart from the message, whether or not the logger has a context', () => {
    const { nest, parsed } = capture();
    Logger.overrideLogger(nest);
    new Logger('admin').error('boom', 'Error: boom\n    at x (y.ts:1:2)');
    new Logger().error('bare', 'Error: bare\n    at x (y.ts:1:2)');
    const [a, b] = parsed();
    expect(a).toMatchObject({ level: 'error', context: 'admin', msg: 'boom', stack: 'Error: boom\n    at x (y.ts:1:2)' });
    expect(a!.details).toBeUndefined();
    expect(b).toMatchObject({ msg: 'bare', stack: 'Error: bare\n    at x (y.ts:1:2)' });
  });

  it('mask credentials wherever they appear: messages, stacks, errors and known header fields', () => {
    const { nest, raw } = capture();
    const secrets = ['sk-gw-0123456789abcdefghijABCDEFGHIJ', 'sk-ant-api03-secretsecretsecret', 'sk_live_51Habcdefghijklmn', 'whsec_abcdefghijklmnopqrstuvwxyz0123', 'AIzaSyA1234567890abcdefghijklmnopqrstu', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl'];
    nest.log(`keys ${secrets.join(' and ')}`, 'ctx');
    nest.error('upstream refused', `Error: 401 for key ${secrets[1]}\n    at call (x.ts:1:1)`, 'ctx');
    nest.warn(new Error(`bad key ${secrets[0]}`), 'ctx');
    nest.log({ msg: 'request', headers: { authorization: 'Bearer opaque-token-value-123', 'x-api-key': 'opaque-x-api-key', cookie: 'session=opaque-cookie' }, password: 'hunter2-password' }, 'ctx');
    const out = raw();
    for (const s of [...secrets, 'opaque-token-value-123', 'opaque-x-api-key', 'opaque-cookie', 'hunter2-password']) expect(out).not.toContain(s);
    expect(out).toContain('sk-[redacted]');
    expect(out).toContain('"authorization":"[redacted]"');
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('scrubs text without touching ordinary words', () => {
    expect(scrubSecrets('Missing or invalid bearer token for model sk')).toBe('Missing or invalid bearer token for model sk');
    expect(scrubSecrets('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer [redacted]');
  });

  it('write nothing at LOG_LEVEL=silent and drop Nest start-up chatter', () => {
    const silent = capture('silent');
    silent.nest.error('nope');
    expect(silent.raw()).toBe('');
    const info = capture('info');
    info.nest.log('Mapped {/api/keys, GET} route', 'RouterExplorer');
    info.nest.debug('not at info', 'x');
    expect(info.raw()).toBe('');
  });
});
