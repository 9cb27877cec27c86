import { DynamicModule, Global, Module } from '@nestjs/common';
import { ProviderRegistry } from '@gw/llm';
import { SANDBOX_UPSTREAMS } from '@gw/gateway';
import { FakeAnthropicServer, FakeGeminiServer, FakeOpenAiServer } from '@gw/testing';

export interface Sandbox {
  upstreams: Map<string, string>;
  close(): Promise<void>;
}

/**
 * Sandbox mode: local simulated upstreams (the same fakes the tests use) speaking each wire
 * format, so every example works offline. Responses then carry `x-gateway-sandbox: true`.
 */
export async function startSandbox(): Promise<Sandbox> {
  const openai = new FakeOpenAiServer();
  const anthropic = new FakeAnthropicServer();
  const gemini = new FakeGeminiServer();
  const byFormat: Record<string, string> = {
    openai: `${await openai.start()}/v1`,
    anthropic: await anthropic.start(),
    gemini: `${await gemini.start()}/v1beta`,
  };
  const upstreams = new Map<string, string>();
  for (const adapter of new ProviderRegistry().all()) {
    const url = byFormat[adapter.wireFormat];
    if (url) upstreams.set(adapter.id, url);
  }
  return { upstreams, close: async () => void (await Promise.all([openai.close(), anthropic.close(), gemini.close()])) };
}

@Global()
@Module({})
export class SandboxModule {
  static forRoot(upstreams: ReadonlyMap<string, string>): DynamicModule {
    return { module: SandboxModule, providers: [{ provide: SANDBOX_UPSTREAMS, useValue: upstreams }], exports: [SANDBOX_UPSTREAMS] };
  }
}
