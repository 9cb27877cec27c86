/**
 * Fake upstreams speaking the real OpenAI, Anthropic and Gemini wire formats, for tests and sandbox mode.
 *
 *   const fake = new FakeOpenAiServer({ apiKey: 'sk-test' });   // or FakeAnthropicServer
 *   const url = await fake.start();                              // http://127.0.0.1:<port>
 *   fake.enqueue({ status: 429, retryAfter: 2 }, { text: 'ok', completionTokens: 3 });
 *   ...  // point a provider's base URL at `${url}/v1` (OpenAI) or `url` (Anthropic)
 *   fake.lastRequest()?.headers.authorization;                  // which key reached the upstream
 *   await fake.close();
 *
 * Behaviour per request: `x-fake-behaviour` header (JSON) > queue > defaults (`setDefaults`).
 */
export * from './fake-upstream/fake-behaviour';
export * from './fake-upstream/fake-http.server';
export { FakeOpenAiServer } from './fake-upstream/fake-openai.server';
export { FakeAnthropicServer } from './fake-upstream/fake-anthropic.server';
export { FakeGeminiServer, type FakeGeminiBehaviour } from './fake-upstream/fake-gemini.server';
