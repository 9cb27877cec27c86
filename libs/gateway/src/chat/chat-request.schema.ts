import { REASONING_EFFORTS } from '@gw/llm';
import { SORTS } from '@gw/routing';

const providers = { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 64 } } as const;

/** OpenRouter's `provider.sort`: a sort, or `{by, partition}` whose `by` is one (refused naming `provider.sort.by`). */
const sort = {
  if: { type: 'string' },
  then: { enum: SORTS },
  else: { type: 'object', required: ['by'], properties: { by: { type: 'string', enum: SORTS }, partition: { type: 'string', enum: ['model', 'none'] } } },
} as const;

/**
 * Compiled (ajv, by Fastify) shape check of a chat request: only what the gateway itself relies
 * on. Provider-specific rules are the adapters' (they reject what they cannot honour).
 */
export const chatRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 100_000,
      items: {
        type: 'object',
        required: ['role'],
        properties: { role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] } },
      },
    },
    models: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 256 } },
    // Routing preferences (OpenRouter's shape); its other fields pass unchecked and unused.
    provider: {
      type: 'object',
      properties: {
        order: providers,
        only: providers,
        ignore: providers,
        allow_fallbacks: { type: 'boolean' },
        require_parameters: { type: 'boolean' },
        sort,
        max_price: { type: 'object', properties: { prompt: { type: 'number', minimum: 0 }, completion: { type: 'number', minimum: 0 } } },
      },
    },
    stream: { type: 'boolean' },
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
    max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
    n: { type: ['integer', 'null'], minimum: 1, maximum: 128 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    user: { type: 'string', maxLength: 512 },
    // OpenRouter's reasoning object, mapped to reasoning_effort (applyReasoningObject).
    reasoning: {
      type: 'object',
      properties: {
        effort: { type: 'string', enum: REASONING_EFFORTS },
        // Far above any model's output; bounded so the hold's arithmetic stays exact.
        max_tokens: { type: 'integer', minimum: 0, maximum: 1_000_000 },
        exclude: { type: 'boolean' },
        enabled: { type: 'boolean' },
      },
    },
  },
} as const;
