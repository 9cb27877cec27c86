import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
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

  it('turns tracing on only with an OTLP endpoint URL, with a sample ratio within 0..1', () => {
    expect(loadConfig({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_SAMPLE_RATIO: '0.25' });
    expect([c.OTEL_EXPORTER_OTLP_ENDPOINT, c.OTEL_SERVICE_NAME, c.OTEL_TRACES_SAMPLE_RATIO]).toEqual(['http://collector:4318', 'llm-gateway', 0.25]);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(() => loadConfig({ OTEL_TRACES_SAMPLE_RATIO: '2' })).toThrow('OTEL_TRACES_SAMPLE_RATIO');
  });
});
