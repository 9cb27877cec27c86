/**
 * The part of the Gemini API's own request validation that catches translation bugs
 * (wire-formats.md §3.2–3.4, §3.8, §5.6), with the API's wording. Each rule returns the 400
 * message, or undefined when the request passes.
 */

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The data fields of a Part: exactly one may be set. */
const DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];

/** Keys of the SDK `Schema` (the OpenAPI subset `parameters` accepts). */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'properties',
  'required',
  'propertyOrdering',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minProperties',
  'maxProperties',
  'anyOf',
  'default',
  'example',
]);
const SCHEMA_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

export interface GeminiRequestFacts {
  lastUserText: string;
  maxTokens?: number;
  candidateCount: number;
}

export function validateGenerateContent(body: unknown, model: string): GeminiRequestFacts | string {
  if (!isObj(body)) return 'Invalid JSON payload received.';
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  if (body.systemInstruction !== undefined) {
    const si = body.systemInstruction;
    if (!isObj(si) || !Array.isArray(si.parts) || si.parts.length === 0) return '* GenerateContentRequest.system_instruction.parts: must not be empty';
    for (const p of si.parts) {
      const err = checkPart(p, 'system_instruction.parts');
      if (err) return err;
    }
  }
  let lastUserText = '';
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (!isObj(c)) return `Invalid JSON payload received. contents[${i}] is not an object`;
    const role = c.role ?? 'user';
    if (role !== 'user' && role !== 'model') return `Please use a valid role: user, model. (contents[${i}].role = ${String(role)})`;
    if (!Array.isArray(c.parts) || c.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    for (let j = 0; j < c.parts.length; j++) {
      const err = checkPart(c.parts[j], `contents[${i}].parts[${j}]`);
      if (err) return err;
    }
    const parts = c.parts as Json[];
    if (role === 'user') {
      const text = parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
      if (text !== '') lastUserText = text;
    }
    if (role === 'model' && i + 1 < contents.length) {
      const calls = parts.filter((p) => p.functionCall !== undefined).length;
      const next = (contents[i + 1] as Json).parts as Json[];
      const answers = next.filter((p) => p.functionResponse !== undefined).length;
      if (calls > 0 && calls !== answers) {
        return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.';
      }
    }
  }
  const sigErr = checkSignatures(contents as Json[], model);
  if (sigErr) return sigErr;
  const toolsErr = checkTools(body.tools);
  if (toolsErr) return toolsErr;

  const config = body.generationConfig;
  let maxTokens: number | undefined;
  let candidateCount = 1;
  if (config !== undefined) {
    if (!isObj(config)) return 'Invalid JSON payload received. generationConfig';
    const thinking = config.thinkingConfig;
    if (isObj(thinking) && thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
      return 'You can only set only one of thinking budget and thinking level.';
    }
    if (config.responseSchema !== undefined && config.responseJsonSchema !== undefined) return 'responseSchema and responseJsonSchema cannot both be set.';
    if (typeof config.maxOutputTokens === 'number') maxTokens = config.maxOutputTokens;
    if (typeof config.candidateCount === 'number') candidateCount = Math.min(Math.max(1, Math.floor(config.candidateCount)), 8);
  }
  return { lastUserText, maxTokens, candidateCount };
}

function checkPart(p: unknown, at: string): string | undefined {
  if (!isObj(p)) return `Invalid JSON payload received. ${at} is not an object`;
  const set = DATA_FIELDS.filter((f) => p[f] !== undefined);
  // An empty text is "no data" to the API (vercel/ai#3775).
  if (set.length !== 1 || p.text === '') return `* GenerateContentRequest.${at}.data: required oneof field 'data' must have one initialized field`;
  if (isObj(p.inlineData) && typeof p.inlineData.data === 'string' && p.inlineData.data.startsWith('data:')) {
    return `Invalid value at '${at}.inline_data.data' (TYPE_BYTES), Base64 decoding failed`;
  }
  if (p.functionResponse !== undefined) {
    const fr = p.functionResponse;
    if (!isObj(fr) || typeof fr.name !== 'string' || fr.name === '') return `* GenerateContentRequest.${at}.function_response.name: Name cannot be empty.`;
    if (!isObj(fr.response)) return `Invalid JSON payload received. Unknown name "response" at '${at}.function_response': Proto field is not repeating, cannot start list.`;
  }
  if (p.functionCall !== undefined) {
    const fc = p.functionCall;
    if (!isObj(fc) || typeof fc.name !== 'string' || fc.name === '') return `* GenerateContentRequest.${at}.function_call.name: Name cannot be empty.`;
    if (fc.args !== undefined && !isObj(fc.args)) return `Invalid JSON payload received. ${at}.function_call.args must be an object`;
  }
  return undefined;
}

/**
 * Gemini 3 validates signatures: in the current turn (since the last user text), every model
 * content with function calls must carry the signature on its first call (ai.google.dev thought-signatures).
 */
function checkSignatures(contents: Json[], model: string): string | undefined {
  if (!/^gemini-3/.test(model)) return undefined;
  let start = 0;
  contents.forEach((c, i) => {
    const parts = c.parts as Json[];
    if ((c.role ?? 'user') === 'user' && parts.some((p) => typeof p.text === 'string')) start = i + 1;
  });
  for (let i = start; i < contents.length; i++) {
    const c = contents[i];
    if (c.role !== 'model') continue;
    const first = (c.parts as Json[]).find((p) => p.functionCall !== undefined);
    if (first !== undefined && typeof first.thoughtSignature !== 'string') {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`default_api:${String((first.functionCall as Json).name)}\` , position ${i + 1}.`;
    }
  }
  return undefined;
}

function checkTools(tools: unknown): string | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) return 'Invalid JSON payload received. tools';
  for (let t = 0; t < tools.length; t++) {
    const tool = tools[t];
    if (!isObj(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (let d = 0; d < tool.functionDeclarations.length; d++) {
      const decl = tool.functionDeclarations[d] as Json;
      const at = `tools[${t}].function_declarations[${d}]`;
      if (typeof decl.name !== 'string' || !FUNCTION_NAME.test(decl.name)) {
        return `* GenerateContentRequest.${at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128.`;
      }
      if (decl.parameters !== undefined) {
        const err = checkSchema(decl.parameters, `${at}.parameters`);
        if (err) return err;
      }
    }
  }
  return undefined;
}

function checkSchema(s: unknown, at: string): string | undefined {
  if (!isObj(s)) return `Invalid JSON payload received. ${at} is not an object`;
  for (const key of Object.keys(s)) {
    if (!SCHEMA_KEYS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`;
  }
  if (Array.isArray(s.type)) return `Invalid JSON payload received. Unknown name "type" at '${at}': Proto field is not repeating, cannot start list.`;
  if (s.type === undefined && s.anyOf === undefined) return `* GenerateContentRequest.${at}.type: must be specified`;
  if (s.type !== undefined && (typeof s.type !== 'string' || !SCHEMA_TYPES.has(s.type.toUpperCase()))) return `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "${String(s.type)}"`;
  const type = typeof s.type === 'string' ? s.type.toUpperCase() : undefined;
  if (Array.isArray(s.enum) && s.enum.some((v) => typeof v !== 'string')) return `Invalid value at '${at}.enum[0]' (TYPE_STRING)`;
  if (type === 'STRING' && typeof s.format === 'string' && s.format !== 'enum' && s.format !== 'date-time') {
    return `* GenerateContentRequest.${at}.format: only 'enum' and 'date-time' are supported for STRING type`;
  }
  if (type === 'OBJECT' && isObj(s.properties) && Object.keys(s.properties).length === 0) return `* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`;
  if (type === 'ARRAY' && s.items === undefined) return `* GenerateContentRequest.${at}.items: missing field.`;
  if (isObj(s.properties)) {
    for (const [k, v] of Object.entries(s.properties)) {
      const err = checkSchema(v, `${at}.properties[${k}].value`);
      if (err) return err;
    }
  }
  if (s.items !== undefined) {
    const err = checkSchema(s.items, `${at}.items`);
    if (err) return err;
  }
  if (Array.isArray(s.anyOf)) {
    for (let k = 0; k < s.anyOf.length; k++) {
      const err = checkSchema(s.anyOf[k], `${at}.any_of[${k}]`);
      if (err) return err;
    }
  }
  return undefined;
}
