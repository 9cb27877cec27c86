import type { ChatCompletionChunk } from './openai.types';

/**
 * Whether a chunk carries output the client would see (text, a refusal, tool calls, reasoning),
 * as opposed to a bare role or finish chunk. Before the first such chunk a stream has committed
 * to nothing: the gateway holds the others back, so a failure up to then can be retried.
 */
export function carriesOutput(chunk: ChatCompletionChunk): boolean {
  for (const { delta: d } of chunk.choices) {
    if (visible(d) || !!d.reasoning || (d.reasoning_details?.length ?? 0) > 0) return true;
  }
  return false;
}

/** Output other than reasoning (text, a refusal, tool calls): what a client that hides reasoning receives. */
export function carriesVisibleOutput(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.some(({ delta }) => visible(delta));
}

function visible(d: ChatCompletionChunk['choices'][number]['delta']): boolean {
  return (typeof d.content === 'string' && d.content !== '') || (typeof d.refusal === 'string' && d.refusal !== '') || (d.tool_calls?.length ?? 0) > 0;
}
