export * from './openai-compatible.config';
export { createOpenAiCompatibleAdapter } from './openai-compatible.adapter';
export { OpenAiCompatibleStream } from './openai-compatible.stream';
export { normalizeFinishReason } from './openai-compatible.normalize';
export * from './openai-compatible.vendors';
