import type { TokenUsage } from '@gw/core';
import type { ChatCompletionChunk, ChunkDelta, FinishReason } from '../../openai.types';
import type { ResponseContext } from '../../provider';
import type { SseEvent } from '../../sse';
import { SseTransformerBase } from '../../sse-transformer.base';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import { anthropicUsageToTokenUsage, mapStopReason, stopSequenceOf } from './anthropic.response';
import { ANTHROPIC_REASONING_FORMAT, type AnthropicUsage } from './anthropic.types';

/** What the transformer remembers about one content block, by Anthropic's block index. */
interface BlockState {
  kind: 'text' | 'tool' | 'thinking' | 'other';
  /** OpenAI `tool_calls[].index`: the gateway's own counter of tool blocks, not Anthropic's index. */
  toolIndex: number;
  /** `reasoning_details[].index` of a thinking block. */
  reasoningIndex: number;
  /** Tool input given whole in content_block_start (some compatible upstreams), sent at stop if no delta came. */
  startInput?: string;
  sentArguments: boolean;
}

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

/**
 * Anthropic Messages stream -> OpenAI chunks (wire-formats.md §2.9, §4.5). `message_stop` is the
 * only terminal event: an EOF before it is a truncation, never a success (reliability.md I6).
 */
export class AnthropicStream extends SseTransformerBase {
  private started = false;
  private finishSent = false;
  private readonly rawUsage: AnthropicUsage = {};
  private sawUsage = false;
  private readonly blocks: BlockState[] = [];
  private tools = 0;
  private reasonings = 0;

  constructor(
    provider: string,
    private readonly ctx: ResponseContext,
  ) {
    super(provider);
  }

  usage(): TokenUsage | undefined {
    return this.sawUsage ? anthropicUsageToTokenUsage(this.rawUsage) : undefined;
  }

  finished(): boolean {
    return this.finishSent;
  }

  protected onEnd(): void {
    if (!this.terminated) throw this.incomplete();
  }

  protected onEvent(ev: SseEvent): void {
    if (ev.data === '') return;
    let json: unknown;
    try {
      json = JSON.parse(ev.data);
    } catch {
      throw this.malformed('invalid JSON');
    }
    if (!isRecord(json)) throw this.malformed('event is not an object');
    const type = typeof json.type === 'string' ? json.type : ev.event;
    if (type === 'error' || ev.event === 'error') {
      throw mapErrorPayload(this.provider, json, { inStream: true, nothingSent: !this.sentAnything });
    }
    switch (type) {
      case 'message_start':
        this.onMessageStart(json);
        break;
      case 'content_block_start':
        this.onBlockStart(json);
        break;
      case 'content_block_delta':
        this.onBlockDelta(json);
        break;
      case 'content_block_stop':
        this.onBlockStop(json);
        break;
      case 'message_delta':
        this.onMessageDelta(json);
        break;
      case 'message_stop':
        this.ensureStarted();
        if (!this.finishSent) this.finish('stop');
        this.terminated = true;
        break;
      default:
        // `ping` and event types newer than this adapter carry nothing to translate.
        break;
    }
  }

  private onMessageStart(ev: Record<string, unknown>): void {
    const message = ev.message;
    if (isRecord(message) && isRecord(message.usage)) this.recordUsage(message.usage);
    this.ensureStarted();
  }

  private onBlockStart(ev: Record<string, unknown>): void {
    this.ensureStarted();
    const index = this.blockIndex(ev);
    const block = ev.content_block;
    if (!isRecord(block)) throw this.malformed('content_block_start without a block');
    const state: BlockState = { kind: 'other', toolIndex: -1, reasoningIndex: -1, sentArguments: false };
    this.blocks[index] = state;
    switch (block.type) {
      case 'text':
        state.kind = 'text';
        if (typeof block.text === 'string' && block.text !== '') this.delta({ content: block.text });
        break;
      case 'tool_use': {
        state.kind = 'tool';
        state.toolIndex = this.tools++;
        const input = block.input;
        if (isRecord(input) && Object.keys(input).length > 0) state.startInput = JSON.stringify(input);
        this.delta({
          tool_calls: [{ index: state.toolIndex, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } }],
        });
        break;
      }
      case 'thinking':
        state.kind = 'thinking';
        state.reasoningIndex = this.reasonings++;
        if (typeof block.thinking === 'string' && block.thinking !== '') this.thinking(state, block.thinking);
        if (typeof block.signature === 'string' && block.signature !== '') this.signature(state, block.signature);
        break;
      case 'redacted_thinking':
        if (typeof block.data === 'string') {
          this.delta({
            reasoning_details: [{ type: 'reasoning.encrypted', data: block.data, format: ANTHROPIC_REASONING_FORMAT, index: this.reasonings++ }],
          });
        }
        break;
      default:
        break;
    }
  }

  private onBlockDelta(ev: Record<string, unknown>): void {
    const state = this.blocks[this.blockIndex(ev)];
    const d = ev.delta;
    if (!isRecord(d)) throw this.malformed('content_block_delta without a delta');
    switch (d.type) {
      case 'text_delta':
        if (typeof d.text === 'string' && d.text !== '') this.delta({ content: d.text });
        break;
      case 'input_json_delta':
        if (state === undefined || state.kind !== 'tool') throw this.malformed('input_json_delta outside a tool_use block');
        // The first fragment is usually "" (wire-formats.md rule 3): nothing to send.
        if (typeof d.partial_json === 'string' && d.partial_json !== '') {
          state.sentArguments = true;
          this.delta({ tool_calls: [{ index: state.toolIndex, function: { arguments: d.partial_json } }] });
        }
        break;
      case 'thinking_delta':
        if (state?.kind === 'thinking' && typeof d.thinking === 'string' && d.thinking !== '') this.thinking(state, d.thinking);
        break;
      case 'signature_delta':
        if (state?.kind === 'thinking' && typeof d.signature === 'string') this.signature(state, d.signature);
        break;
      default:
        break;
    }
  }

  private onBlockStop(ev: Record<string, unknown>): void {
    const state = this.blocks[this.blockIndex(ev)];
    // Input given whole at the start, or none at all: a call without arguments is "{}", as in a
    // non-streamed answer (clients JSON.parse the arguments; "" is not JSON).
    if (state?.kind === 'tool' && !state.sentArguments) {
      state.sentArguments = true;
      this.delta({ tool_calls: [{ index: state.toolIndex, function: { arguments: state.startInput ?? '{}' } }] });
    }
  }

  private onMessageDelta(ev: Record<string, unknown>): void {
    this.ensureStarted();
    if (isRecord(ev.usage)) this.recordUsage(ev.usage);
    const d = ev.delta;
    if (isRecord(d) && typeof d.stop_reason === 'string' && !this.finishSent) this.finish(mapStopReason(d.stop_reason), stopSequenceOf(d.stop_reason, d.stop_sequence));
  }

  /** Usage fields are running totals: overwrite, never add (SDK `MessageStream`). */
  private recordUsage(u: Record<string, unknown>): void {
    for (const f of USAGE_FIELDS) {
      const v = u[f];
      if (typeof v === 'number') {
        this.rawUsage[f] = v;
        this.sawUsage = true;
      }
    }
    const details = u.output_tokens_details;
    if (isRecord(details) && typeof details.thinking_tokens === 'number') {
      this.rawUsage.output_tokens_details = { thinking_tokens: details.thinking_tokens };
    }
    const creation = u.cache_creation;
    if (isRecord(creation) && typeof creation.ephemeral_1h_input_tokens === 'number') {
      this.rawUsage.cache_creation = { ephemeral_1h_input_tokens: creation.ephemeral_1h_input_tokens };
    }
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    this.delta({ role: 'assistant', content: '' });
  }

  private blockIndex(ev: Record<string, unknown>): number {
    const i = ev.index;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i > 10_000) throw this.malformed('bad content block index');
    return i;
  }

  private thinking(state: BlockState, text: string): void {
    this.delta({
      reasoning: text,
      reasoning_details: [{ type: 'reasoning.text', text, format: ANTHROPIC_REASONING_FORMAT, index: state.reasoningIndex }],
    });
  }

  private signature(state: BlockState, signature: string): void {
    this.delta({
      reasoning_details: [{ type: 'reasoning.text', text: '', signature, format: ANTHROPIC_REASONING_FORMAT, index: state.reasoningIndex }],
    });
  }

  private finish(reason: FinishReason, stopSequence?: string): void {
    this.finishSent = true;
    const chunk = this.chunk({}, reason);
    if (stopSequence !== undefined) chunk.choices[0].stop_sequence = stopSequence;
    this.emit(chunk);
  }

  private delta(delta: ChunkDelta): void {
    this.emit(this.chunk(delta, null));
  }

  private chunk(delta: ChunkDelta, finish: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}
