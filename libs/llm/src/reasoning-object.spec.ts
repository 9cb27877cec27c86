import type { ChatRequest } from './openai.types';
import type { ReasoningConfig } from './router-request.types';
import { applyReasoningObject, reasoningBudgetOf, reasoningExcluded } from './reasoning-object';
import { reasoningIsPermission } from './unsupported-params';

const base: ChatRequest = { model: 'x/y', messages: [{ role: 'user', content: 'hi' }] };
const withReasoning = (reasoning: ReasoningConfig, extra: Partial<ChatRequest> = {}): ChatRequest => ({ ...base, reasoning, ...extra });

describe("OpenRouter's reasoning object", () => {
  it.each([
    [{ effort: 'high' }, 'high', 'reasoning.effort'],
    [{ effort: 'minimal', exclude: true }, 'minimal', 'reasoning.effort'],
    [{ enabled: false, effort: 'high' }, 'none', 'reasoning.enabled'],
    [{ enabled: true }, 'medium', 'reasoning.enabled'],
    [{ max_tokens: 2000 }, 'low', 'reasoning.max_tokens'],
    [{ max_tokens: 8000 }, 'medium', 'reasoning.max_tokens'],
    [{ max_tokens: 32000 }, 'high', 'reasoning.max_tokens'],
    [{ max_tokens: 0 }, 'none', 'reasoning.max_tokens'],
  ] as const)('%j is reasoning_effort %s, named %s in refusals, and permission to think', (reasoning, effort, from) => {
    const mapped = applyReasoningObject(withReasoning(reasoning));
    expect(mapped.reasoning_effort).toBe(effort);
    expect(mapped.client_names).toEqual({ reasoning_effort: from });
    expect(mapped.reasoning).toEqual(reasoning);
    expect(reasoningIsPermission(mapped)).toBe(true);
  });

  it("leaves a client's own reasoning_effort, and a request without the object or with exclude alone, as they are", () => {
    const own = withReasoning({ effort: 'high' }, { reasoning_effort: 'low' });
    expect(applyReasoningObject(own)).toBe(own);
    expect(reasoningIsPermission(own)).toBe(false);
    expect(applyReasoningObject(base)).toBe(base);
    const excludeOnly = withReasoning({ exclude: true });
    expect(applyReasoningObject(excludeOnly)).toBe(excludeOnly);
    expect(reasoningExcluded(excludeOnly)).toBe(true);
    expect(reasoningExcluded(base)).toBe(false);
  });

  it('gives the budget to adapters that take one, unless thinking is off', () => {
    expect(reasoningBudgetOf(withReasoning({ max_tokens: 3000 }))).toBe(3000);
    expect(reasoningBudgetOf(withReasoning({ max_tokens: 3000, enabled: false }))).toBeUndefined();
    expect(reasoningBudgetOf(withReasoning({ max_tokens: 0 }))).toBeUndefined();
    expect(reasoningBudgetOf(withReasoning({ effort: 'high' }))).toBeUndefined();
  });
});
