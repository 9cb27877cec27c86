/**
 * Gemini `generateContent` wire types (lowerCamelCase JSON), the subset the gateway sends and reads.
 * Written from @google/genai 3.1 `dist/genai.d.ts` and https://ai.google.dev/api/generate-content
 * (the package is not a dependency: only its wire shapes matter).
 */
import type { JsonObject, JsonValue } from '../../openai.types';

export type GeminiRole = 'user' | 'model';

/** A part is a oneof: exactly one data field, plus an optional `thoughtSignature` (wire-formats.md §3.2). */
export interface GeminiPart {
  text?: string;
  /** The text is a thought summary (only with `includeThoughts`); never part of the answer. */
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  /** Opaque; must come back byte-for-byte on the part it arrived with (§3.8). */
  thoughtSignature?: string;
}

export interface GeminiFunctionCall {
  name: string;
  args?: JsonObject;
  /** Returned by newer models; echoed in the matching functionResponse. */
  id?: string;
}

export interface GeminiFunctionResponse {
  name: string;
  /** Must be an object: strings go under `output`, failures under `error`. */
  response: JsonObject;
  id?: string;
}

export interface GeminiContent {
  role: GeminiRole;
  parts: GeminiPart[];
}

/** OpenAPI 3.0 subset accepted by `functionDeclarations[].parameters` (SDK `Schema`). */
export type GeminiSchemaType = 'STRING' | 'NUMBER' | 'INTEGER' | 'BOOLEAN' | 'ARRAY' | 'OBJECT' | 'NULL';

export interface GeminiSchema {
  type?: GeminiSchemaType;
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  properties?: Record<string, GeminiSchema>;
  required?: string[];
  propertyOrdering?: string[];
  items?: GeminiSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: GeminiSchema[];
  default?: JsonValue;
  example?: JsonValue;
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: GeminiSchema;
}

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED';

export interface GeminiToolConfig {
  functionCallingConfig: { mode: GeminiFunctionCallingMode; allowedFunctionNames?: string[] };
}

export type GeminiThinkingLevel = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';

/** `thinkingBudget` (2.5) and `thinkingLevel` (3.x) are never sent together: that is a 400 (§3.3). */
export interface GeminiThinkingConfig {
  thinkingBudget?: number;
  thinkingLevel?: GeminiThinkingLevel;
  includeThoughts?: boolean;
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseLogprobs?: boolean;
  logprobs?: number;
  responseMimeType?: 'text/plain' | 'application/json';
  /** JSON Schema subset; never together with `responseSchema`. */
  responseJsonSchema?: JsonObject;
  thinkingConfig?: GeminiThinkingConfig;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export interface GeminiUsageMetadata {
  /** Includes cached content (§3.6). */
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  /** Excludes thoughts. */
  candidatesTokenCount?: number;
  /** Not inside promptTokenCount. */
  toolUsePromptTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiLogprobCandidate {
  token?: string;
  tokenId?: number;
  logProbability?: number;
}

export interface GeminiLogprobsResult {
  topCandidates?: Array<{ candidates?: GeminiLogprobCandidate[] }>;
  chosenCandidates?: GeminiLogprobCandidate[];
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  logprobsResult?: GeminiLogprobsResult;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** `reasoning_details` format tag for Gemini thought signatures (OpenRouter's spelling). */
export const GEMINI_REASONING_FORMAT = 'google-gemini-v1';
