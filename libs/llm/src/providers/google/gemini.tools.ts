import { DomainError, ErrorCode } from '@gw/core';
import type { Tool, ToolChoice } from '../../openai.types';
import type { BuildOptions } from '../../provider';
import { unsupportedParameter } from '../../unsupported-params';
import { isRecord } from '../../upstream-errors';
import { toGeminiParameters } from './gemini.schema';
import type { GeminiFunctionDeclaration, GeminiTool, GeminiToolConfig } from './gemini.types';

/**
 * Tool names: Gemini wants `^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$` (SDK 3.1), OpenAI allows names
 * starting with a digit or `-`. Invalid names get a reserved prefix, and names that already start
 * with it get it twice, so the mapping is a bijection the response side reverses without any
 * per-request state (the adapter contract passes none from request to response).
 */
const GEMINI_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const NAME_ESCAPE = '_gw_';

export function toGeminiName(name: string, param: string): string {
  if (GEMINI_NAME.test(name) && !name.startsWith(NAME_ESCAPE)) return name;
  const escaped = NAME_ESCAPE + name;
  if (!GEMINI_NAME.test(escaped)) {
    throw new DomainError(ErrorCode.InvalidBody, `Tool name '${name.slice(0, 80)}' cannot be sent to Gemini (letters, digits, _ . : - only, at most 124 characters)`, {
      param,
      retryable: false,
    });
  }
  return escaped;
}

export function fromGeminiName(name: string): string {
  return name.startsWith(NAME_ESCAPE) ? name.slice(NAME_ESCAPE.length) : name;
}

export function mapTools(provider: string, tools: Tool[] | undefined, policy: BuildOptions['unsupportedParams']): GeminiTool[] {
  const declarations: GeminiFunctionDeclaration[] = [];
  (tools ?? []).forEach((t, i) => {
    if (t.type !== 'function') {
      if (policy === 'reject') throw unsupportedParameter(provider, 'tools', `tool type '${t.type}'`);
      return;
    }
    const f = t.function;
    const decl: GeminiFunctionDeclaration = { name: toGeminiName(f.name, `tools[${i}].function.name`) };
    if (f.description) decl.description = f.description;
    const parameters = toGeminiParameters(f.parameters);
    if (parameters !== undefined) decl.parameters = parameters;
    declarations.push(decl);
  });
  return declarations.length === 0 ? [] : [{ functionDeclarations: declarations }];
}

/**
 * wire-formats.md §4.3. `allowed_tools` maps to VALIDATED/ANY with `allowedFunctionNames`, which
 * Gemini honours only in those modes. `parallel_tool_calls` has no Gemini equivalent and is ignored
 * (the table's choice): refusing it would break every client that turns parallel calls off.
 */
export function mapToolChoice(choice: ToolChoice | undefined): GeminiToolConfig | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice.type === 'function') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [toGeminiName(choice.function.name, 'tool_choice.function.name')] } };
  }
  const names: string[] = [];
  for (const t of choice.allowed_tools.tools) {
    const fn = (t as { function?: unknown }).function;
    if (isRecord(fn) && typeof fn.name === 'string') names.push(toGeminiName(fn.name, 'tool_choice.allowed_tools.tools'));
  }
  const mode = choice.allowed_tools.mode === 'required' ? 'ANY' : 'VALIDATED';
  return { functionCallingConfig: names.length > 0 ? { mode, allowedFunctionNames: names } : { mode } };
}

/**
 * Older models send function calls without `id`; the gateway then makes one up. Made-up ids are
 * recognisable so they are never echoed to Gemini (which did not issue them), while ids Gemini
 * issued go back in functionCall/functionResponse as its docs ask.
 */
const SYNTHETIC_ID_PREFIX = 'call_gw';

export function syntheticCallId(responseId: string, candidate: number, k: number): string {
  return `${SYNTHETIC_ID_PREFIX}_${responseId.replace(/[^A-Za-z0-9_-]/g, '_')}_${candidate}_${k}`;
}

export function isSyntheticCallId(id: string): boolean {
  return id.startsWith(`${SYNTHETIC_ID_PREFIX}_`);
}
