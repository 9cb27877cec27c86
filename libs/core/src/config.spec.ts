import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('runs in sandbox mode without provider keys, and names the variables that turned it off', () => {
    expect(loadConfig({})).toMatchObject({ sandbox: true, providerKeyVars: [] });
    expect(loadConfig({ STRIPE_API_KEY: 'sk_test_x' })).toMatchObject({ sandbox: true, providerKeyVars: [] });
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-gw-client-key', OPENAI_API_KEY: '' })).toMatchObject({ sandbox: false, providerKeyVars: ['ANTHROPIC_API_KEY'] });
  });

  it('reads PLATFORM_TENANT_CAPS as JSON, empty meaning no caps', () => {
    expect(loadConfig({}).PLATFORM_TENANT_CAPS).toEqual({});
    expect(loadConfig({ PLATFORM_TENANT_CAPS: '' }).PLATFORM_TENANT_CAPS).toEqual({});
    expect(loadConfig({ PLATFORM_TENANT_CAPS: '{"*":{"rpm":600,"concurrency":50},"openai":{"rpm":120}}' }).PLATFORM_TENANT_CAPS).toEqual({
      '*': { rpm: 600, concurrency: 50 },
      openai: { rpm: 120 },
    });
  });

  it.each([
    ['not json', 'PLATFORM_TENANT_CAPS: not valid JSON'],
    ['{"openai":{"rpm":0}}', 'PLATFORM_TENANT_CAPS.openai.rpm'],
    ['{"openai":{"rpm":1.5}}', 'PLATFORM_TENANT_CAPS.openai.rpm'],
    ['{"openai":{"burst":3}}', 'PLATFORM_TENANT_CAPS.openai'],
    ['{"Open AI":{"rpm":3}}', 'PLATFORM_TENANT_CAPS.Open AI'],
  ])('refuses PLATFORM_TENANT_CAPS=%s, naming %s', (value, named) => {
    expect(() => loadConfig({ PLATFORM_TENANT_CAPS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ PLATFORM_TENANT_CAPS: value })).toThrow(named);
  });

  it("refuses docker-compose's placeholder secrets in production", () => {
    const real = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(40), SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), ADMIN_TOKEN: 'b'.repeat(40) };
    expect(loadConfig(real).NODE_ENV).toBe('production');
    expect(() => loadConfig({ ...real, ADMIN_TOKEN: 'change-me-admin-token' })).toThrow('ADMIN_TOKEN');
    expect(() => loadConfig({ ...real, JWT_SECRET: 'change-me-jwt-secret-use-at-least-32-random-chars' })).toThrow('JWT_SECRET');
    expect(() => loadConfig({ ...real, SECRETS_KEY: 'Y2hhbmdlLW1lLWNoYW5nZS1tZS1jaGFuZ2UtbWUtMzI=' })).toThrow('SECRETS_KEY');
    // Development keeps working with them.
    expect(loadConfig({ ADMIN_TOKEN: 'change-me-admin-token' }).ADMIN_TOKEN).toBe('change-me-admin-token');
  });

  it('turns tracing on only with an OTLP endpoint URL, with a sample ratio within 0..1', () => {
    expect(loadConfig({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_SAMPLE_RATIO: '0.25' });
    expect([c.OTEL_EXPORTER_OTLP_ENDPOINT, c.OTEL_SERVICE_NAME, c.OTEL_TRACES_SAMPLE_RATIO]).toEqual(['http://collector:4318', 'llm-gateway', 0.25]);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(() => loadConfig({ OTEL_TRACES_SAMPLE_RATIO: '2' })).toThrow('OTEL_TRACES_SAMPLE_RATIO');
  });
});

describe('urlPolicy (PROVIDER_URL_HTTPS_ONLY, PROVIDER_URL_PORTS)', () => {
  const prod = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(40), SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') };

  it('is https on 443 in production, anything elsewhere', () => {
    expect(loadConfig(prod).urlPolicy).toEqual({ httpsOnly: true, ports: new Set([443]) });
    expect(loadConfig({}).urlPolicy).toEqual({ httpsOnly: false, ports: null });
  });

  it('is what the operator sets', () => {
    expect(loadConfig({ ...prod, PROVIDER_URL_HTTPS_ONLY: 'false' }).urlPolicy).toEqual({ httpsOnly: false, ports: new Set([443, 80]) });
    expect(loadConfig({ ...prod, PROVIDER_URL_PORTS: '443,8443' }).urlPolicy.ports).toEqual(new Set([443, 8443]));
    expect(loadConfig({ ...prod, PROVIDER_URL_PORTS: 'any' }).urlPolicy.ports).toBeNull();
    expect(loadConfig({ PROVIDER_URL_HTTPS_ONLY: 'true' }).urlPolicy.httpsOnly).toBe(true);
  });

  it.each(['443;80', '0', '70000', 'all'])('refuses PROVIDER_URL_PORTS=%s', (v) => {
    expect(() => loadConfig({ PROVIDER_URL_PORTS: v })).toThrow('PROVIDER_URL_PORTS');
  });
});
