import type { ChatRequest } from '@gw/llm';
import { ESTIMATED_IMAGE_TOKENS, UsageEstimator } from './usage-estimator';

describe('UsageEstimator.estimate (a charge without the provider’s usage)', () => {
  const estimator = new UsageEstimator();
  beforeAll(() => estimator.onModuleInit());

  const tools = Array.from({ length: 20 }, (_, i) => ({
    type: 'function',
    function: { name: `lookup_${i}`, description: 'Looks up a customer record by id and returns the profile.', parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
  }));

  it('charges the prompt the provider was sent: tool definitions and earlier tool calls count, as in contextTokens', async () => {
    const bare = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] } as ChatRequest;
    const withTools = { ...bare, tools } as ChatRequest;
    const withCalls = {
      ...bare,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_1', arguments: JSON.stringify({ id: Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ') }) } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'found' },
      ],
    } as ChatRequest;
    for (const req of [bare, withTools, withCalls]) {
      const usage = await estimator.estimate(req, 'partial answer');
      expect(usage.promptTokens).toBe(await estimator.contextTokens(req));
      expect(usage.completionTokens).toBe(await estimator.completion('partial answer'));
    }
    expect((await estimator.estimate(withTools, '')).promptTokens).toBeGreaterThan((await estimator.estimate(bare, '')).promptTokens + 20 * 20);
    expect((await estimator.estimate(withCalls, '')).promptTokens).toBeGreaterThan((await estimator.estimate(bare, '')).promptTokens + 100);
  });

  it('counts each image at ESTIMATED_IMAGE_TOKENS', async () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
    const text = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }] }] } as ChatRequest;
    const two = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, image, image] }] } as ChatRequest;
    expect((await estimator.estimate(two, '')).promptTokens).toBe((await estimator.estimate(text, '')).promptTokens + 2 * ESTIMATED_IMAGE_TOKENS);
  });
});
