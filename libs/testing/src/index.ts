/**
 * Fake upstreams speaking the real OpenAI, Anthropic and Gemini wire formats, for tests and sandbox mode.
 *
 *   const fake = new FakeOpenAiServer({ apiKey: 'sk-test' });   // or FakeAnthropicServer, FakeGeminiServer
 *   const url = await fake.start();                              // http://127.0.0.1:<port>
 *   fake.enqueue({ status: 429, retryAfter: 2 }, { text: 'ok', completionTokens: 3 });
 *   ...  // point a provider's base URL at `${url}/v1` (OpenAI), `url` (Anthropic) or `${url}/v1beta` (Gemini)
 *   fake.lastRequest()?.headers.authorization;                  // which key reached the upstream
 *   await fake.close();
 *
 * Behaviour per request: `x-fake-behaviour` header (JSON) > queue > defaults (`setDefaults`).
 */
export * from './fake-upstream/fake-behaviour';
export * from './fake-upstream/fake-http.server';
export { FakeOpenAiServer } from './fake-upstream/fake-openai.server';
export { FakeAnthropicServer } from './fake-upstream/fake-anthropic.server';
export { FakeStripeServer, type FakeStripeOptions, type StripeRequestRecord } from './fake-stripe/fake-stripe.server';
export { DECLINING_PAYMENT_METHOD, FAKE_STRIPE_API_VERSION, type CheckoutOutcome } from './fake-stripe/fake-stripe.state';
export { stripeSignatureHeader, type FakeStripeEvent } from './fake-stripe/fake-stripe.objects';
export type { DeliveryOptions, DeliveryRecord } from './fake-stripe/fake-stripe.webhooks';
export { FakeGeminiServer, type FakeGeminiBehaviour } from './fake-upstream/fake-gemini.server';
export { FakeOtlpCollector, OTLP_SPAN_KIND, type CollectedSpan, type SpanAttributeValue } from './fake-otlp-collector';
