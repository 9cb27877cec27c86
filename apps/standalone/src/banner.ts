import type { AppConfig } from '@gw/core';
import type { DemoTenant } from '@gw/admin';

/** Which variables made the mode live: a shell that exported a client's ANTHROPIC_API_KEY shows it here. */
function liveBecause(config: AppConfig): string {
  if (config.providerKeyVars.length === 0) return 'SANDBOX=false';
  return `${config.providerKeyVars.join(', ')} set in the environment`;
}

export function printBanner(config: AppConfig, demo: DemoTenant | undefined, sandbox: boolean): void {
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const base = config.PUBLIC_BASE_URL ?? `http://${host}:${config.PORT}`;
  const key = demo?.apiKey ?? '<your key: POST /api/auth/signup>';
  const lines = [
    '',
    '  LLM gateway is running',
    `  Base URL     ${base}/v1   (OpenAI-compatible; admin API at ${base}/api)`,
    sandbox ? '  Mode         SANDBOX: no provider keys set, upstreams are simulated locally' : `  Mode         live providers (${liveBecause(config)})`,
    demo ? `  Demo tenant  ${demo.email} / ${demo.password}` : '',
    `  Demo key     ${key}`,
    '',
    '  Try it:',
    `  curl ${base}/v1/chat/completions -H "Authorization: Bearer ${key}" \\`,
    `    -H "content-type: application/json" -d '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    '',
  ];
  console.log(lines.filter((l, i) => l !== '' || i === 0 || lines[i - 1] !== '').join('\n'));
}
