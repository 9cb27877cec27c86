export * from './gemini.types';
export { GeminiAdapter, geminiAdapter, GEMINI_DEFAULT_BASE_URL, modelResource } from './gemini.adapter';
export { GeminiStream } from './gemini.stream';
export { geminiUsageToTokenUsage, mapFinishReason as mapGeminiFinishReason } from './gemini.response';
export { GEMINI_UNSUPPORTED, thinkingConfig as geminiThinkingConfig } from './gemini.request';
export { toGeminiParameters, toGeminiResponseJsonSchema, toGeminiSchema } from './gemini.schema';
export { fromGeminiName, toGeminiName } from './gemini.tools';
