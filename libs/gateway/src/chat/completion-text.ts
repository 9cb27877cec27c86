import type { ParsedCompletion } from '@gw/llm';

/** Everything the model generated in an answer: text, refusals, reasoning and tool-call arguments of every choice. */
export function generatedOf(c: ParsedCompletion['completion']): string {
  const parts: string[] = [];
  for (const { message: m } of c.choices) {
    if (typeof m.content === 'string') parts.push(m.content);
    if (typeof m.refusal === 'string') parts.push(m.refusal);
    if (typeof m.reasoning === 'string') parts.push(m.reasoning);
    for (const tc of m.tool_calls ?? []) if (typeof tc.function?.arguments === 'string') parts.push(tc.function.name, tc.function.arguments);
  }
  return parts.join('\n');
}

/** The answer's text (every choice's content), as stored with an opted-in tenant's log. */
export function textOf(c: ParsedCompletion['completion']): string {
  return c.choices.map((ch) => (typeof ch.message.content === 'string' ? ch.message.content : '')).join('\n');
}
