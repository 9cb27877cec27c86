export * from './anthropic.types';
export { AnthropicAdapter, anthropicAdapter, ANTHROPIC_API_VERSION } from './anthropic.adapter';
export { AnthropicStream } from './anthropic.stream';
export { anthropicUsageToTokenUsage, mapStopReason } from './anthropic.response';
export { ANTHROPIC_UNSUPPORTED, DEFAULT_MAX_TOKENS } from './anthropic.request';
export { sanitizeToolId } from './anthropic.messages';
