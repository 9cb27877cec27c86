import { DomainError, ErrorCode } from '@gw/core';
import type { ChatMessage, ChatRequest, ReasoningEffort } from '../../openai.types';
import type { BuildOptions } from '../../provider';
import { applyReasoningObject } from '../../reasoning-object';
import { geminiAdapter } from './gemini.adapter';
import { thinkingConfig } from './gemini.request';
import { fromGeminiName, toGeminiName } from './gemini.tools';

const target = { baseUrl: '', apiKey: 'AIza-secret', upstreamModel: 'gemini-2.5-flash' };
const reject: BuildOptions = { stream: false, unsupportedParams: 'reject' };
const drop: BuildOptions = { ...reject, unsupportedParams: 'drop' };
const build = (req: Partial<ChatRequest>, opts: BuildOptions = reject, model = 'gemini-2.5-flash') =>
  geminiAdapter.buildChatRequest({ model: 'google/gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], ...req }, { ...target, upstreamModel: model }, opts);
const bodyOf = (req: Partial<ChatRequest>, opts: BuildOptions = reject, model?: string) => JSON.parse(build(req, opts, model).body);
const caught = (f: () => unknown): DomainError => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('Gemini adapter: URL and headers', () => {
  it('calls generateContent with the key in x-goog-api-key, never in the URL', () => {
    const up = build({});
    expect(up.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(up.url).not.toContain('AIza');
    expect(up.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', 'x-goog-api-key': 'AIza-secret' });
  });

  it('streams with streamGenerateContent?alt=sse (without it the body is a JSON array)', () => {
    const up = build({}, { ...reject, stream: true });
    expect(up.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(up.headers.accept).toBe('text/event-stream');
  });

  it('uses a configured base and full resource names as given', () => {
    const up = geminiAdapter.buildChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { baseUrl: 'http://127.0.0.1:9/v1beta/', apiKey: 'k', upstreamModel: 'tunedModels/my-model' }, reject);
    expect(up.url).toBe('http://127.0.0.1:9/v1beta/tunedModels/my-model:generateContent');
  });

  it('reports the output cap it sent', () => {
    expect(build({ max_tokens: 77 }).maxOutputTokens).toBe(77);
    expect(build({ max_completion_tokens: 50 }, { ...reject, maxTokens: 300 }).maxOutputTokens).toBe(300);
    expect(build({}).maxOutputTokens).toBeUndefined();
  });
});

describe('Gemini request: messages -> contents (wire-formats.md §4.1, §4.2)', () => {
  it('hoists system/developer, maps assistant to model, merges same-role turns, drops empty text', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'one' },
      { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'text', text: '  ' }] },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
      { role: 'assistant', content: 'ok' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'three' },
    ];
    expect(bodyOf({ messages })).toEqual({
      systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'Use metric.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
        { role: 'model', parts: [{ text: 'ok' }] },
        { role: 'user', parts: [{ text: 'three' }] },
      ],
    });
  });

  it('inlines data-URL images and audio, passes file and URL images as fileData', () => {
    const body = bodyOf({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?x=1' } },
            { type: 'image_url', image_url: { url: 'gs://bucket/object' } },
            { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' } },
          ],
        },
      ],
    });
    expect(body.contents[0].parts).toEqual([
      { inlineData: { mimeType: 'image/png', data: 'iVBOR' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG?x=1' } },
      { fileData: { fileUri: 'gs://bucket/object' } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGR' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBER' } },
    ]);
  });

  it('refuses malformed images and file ids', () => {
    expect(caught(() => build({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }))).toMatchObject({
      code: ErrorCode.InvalidBody,
      details: { param: 'messages[0].content[0].image_url.url' },
    });
    expect(caught(() => build({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] })).code).toBe(ErrorCode.UnsupportedParameter);
  });

  it('maps tool calls to functionCall parts and every tool result to one functionResponse in one user content', () => {
    const body = bodyOf({
      messages: [
        { role: 'user', content: 'Weather in Paris and Lyon?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'fc-1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_gw_gen-x_0_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'fc-1', content: '{"temp_c":21}' },
        { role: 'tool', tool_call_id: 'call_gw_gen-x_0_1', content: [{ type: 'text', text: 'cloudy' }] },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Lyon?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'fc-1' } },
          // A gateway-made id was never Gemini's: not echoed.
          { functionCall: { name: 'get_weather', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: { temp_c: 21 } }, id: 'fc-1' } },
          { functionResponse: { name: 'get_weather', response: { output: 'cloudy' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
  });

  it('replays thought signatures on the parts they came with (reasoning_details, Gemini format)', () => {
    const body = bodyOf({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
          reasoning_details: [
            { type: 'reasoning.encrypted', data: 'SIG-A', format: 'google-gemini-v1', id: 'a', index: 0 },
            { type: 'reasoning.encrypted', data: 'SIG-TEXT', format: 'google-gemini-v1', id: null, index: 1 },
            // Anthropic thinking is not Gemini's and is not sent.
            { type: 'reasoning.text', text: 'hmm', signature: 'ant', format: 'anthropic-claude-v1', index: 2 },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: '1' },
        { role: 'tool', tool_call_id: 'b', content: '2' },
      ],
    });
    expect(body.contents[1].parts).toEqual([
      { text: 'Let me look.', thoughtSignature: 'SIG-TEXT' },
      { functionCall: { name: 'f', args: {}, id: 'a' }, thoughtSignature: 'SIG-A' },
      { functionCall: { name: 'g', args: {}, id: 'b' } },
    ]);
  });

  it('refuses a tool result for an unknown call, a missing result, and non-object arguments', () => {
    expect(caught(() => build({ messages: [{ role: 'user', content: 'q' }, { role: 'tool', tool_call_id: 'nope', content: 'x' }] }))).toMatchObject({
      code: ErrorCode.InvalidBody,
      details: { param: 'messages[1].tool_call_id' },
    });
    const twoCalls: ChatMessage[] = [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'b', type: 'function', function: { name: 'f', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: '1' },
      { role: 'user', content: 'and?' },
    ];
    expect(caught(() => build({ messages: twoCalls })).message).toMatch(/2 tool call\(s\) but the next turn gives 1/);
    expect(
      caught(() => build({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] })).details.param,
    ).toBe('messages[1].tool_calls[0].function.arguments');
  });
});

describe('Gemini request: tools, tool_choice, names', () => {
  const tools: ChatRequest['tools'] = [
    { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', additionalProperties: false, properties: { city: { type: 'string' } }, required: ['city'] } } },
    { type: 'function', function: { name: '2fa-code', parameters: { type: 'object', properties: {} } } },
  ];

  it('declares functions with sanitized parameters and escapes names Gemini refuses', () => {
    expect(bodyOf({ tools }).tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } },
          { name: '_gw_2fa-code' },
        ],
      },
    ]);
  });

  it.each([
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
    ['required', { functionCallingConfig: { mode: 'ANY' } }],
    [{ type: 'function', function: { name: '2fa-code' } }, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['_gw_2fa-code'] } }],
    [{ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } }, { functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames: ['get_weather'] } }],
    [{ type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_weather' } }] } }, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } }],
  ] as const)('tool_choice %j -> %j', (choice, expected) => {
    expect(bodyOf({ tools, tool_choice: choice as ChatRequest['tool_choice'] }).toolConfig).toEqual(expected);
  });

  it('ignores parallel_tool_calls (no Gemini equivalent) and tool_choice without tools', () => {
    expect(bodyOf({ tools, parallel_tool_calls: false })).not.toHaveProperty('toolConfig');
    expect(bodyOf({ tool_choice: 'required' })).not.toHaveProperty('toolConfig');
  });

  it('rejects or drops custom tools per policy', () => {
    const custom: ChatRequest['tools'] = [{ type: 'custom', custom: { name: 'x' } }];
    expect(caught(() => build({ tools: custom })).code).toBe(ErrorCode.UnsupportedParameter);
    expect(bodyOf({ tools: custom }, drop)).not.toHaveProperty('tools');
  });

  it('maps names both ways as a bijection', () => {
    for (const name of ['get_weather', '2fa', '-x', '_gw_a', '_gw__gw_b', 'a.b:c']) expect(fromGeminiName(toGeminiName(name, 'p'))).toBe(name);
    expect(toGeminiName('get_weather', 'p')).toBe('get_weather');
    expect(() => toGeminiName('has space', 'tools[0]')).toThrow(DomainError);
    expect(() => toGeminiName('x'.repeat(125), 'p')).not.toThrow();
  });
});

describe('Gemini request: generationConfig (wire-formats.md §3.3, §4.8, §4.9)', () => {
  it('maps sampling, limits, stop, n, seed, penalties and logprobs', () => {
    const body = bodyOf({
      max_tokens: 100,
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END', ''],
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logprobs: true,
      top_logprobs: 3,
      user: 'u-1',
      store: true,
      metadata: { a: 'b' },
      service_tier: 'flex',
    });
    expect(body.generationConfig).toEqual({
      maxOutputTokens: 100,
      temperature: 0.3,
      topP: 0.9,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      responseLogprobs: true,
      logprobs: 3,
    });
    expect(Object.keys(body).sort()).toEqual(['contents', 'generationConfig']);
    expect(bodyOf({ stop: 'X', n: 1 }).generationConfig).toEqual({ stopSequences: ['X'] });
  });

  it('maps response_format to responseMimeType + responseJsonSchema', () => {
    expect(bodyOf({ response_format: { type: 'json_object' } }).generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(
      bodyOf({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } } }).generationConfig,
    ).toEqual({ responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } });
    expect(bodyOf({ response_format: { type: 'text' } })).not.toHaveProperty('generationConfig');
  });

  it.each<[string, ReasoningEffort, object | undefined | 'unsupported']>([
    ['gemini-2.5-flash', 'low', { thinkingBudget: 1024, includeThoughts: true }],
    ['gemini-2.5-flash', 'medium', { thinkingBudget: 2048, includeThoughts: true }],
    ['gemini-2.5-flash', 'high', { thinkingBudget: 4096, includeThoughts: true }],
    ['gemini-2.5-flash-lite', 'minimal', { thinkingBudget: 512, includeThoughts: true }],
    ['gemini-2.5-flash', 'none', { thinkingBudget: 0 }],
    ['gemini-2.5-pro', 'none', undefined],
    ['gemini-2.5-pro', 'max', { thinkingBudget: 16384, includeThoughts: true }],
    ['gemini-3-flash-preview', 'minimal', { thinkingLevel: 'MINIMAL', includeThoughts: true }],
    ['gemini-3-flash-preview', 'medium', { thinkingLevel: 'MEDIUM', includeThoughts: true }],
    ['gemini-3-flash-preview', 'none', { thinkingLevel: 'MINIMAL' }],
    ['gemini-3-pro-preview', 'low', { thinkingLevel: 'LOW', includeThoughts: true }],
    ['gemini-3-pro-preview', 'medium', { thinkingLevel: 'HIGH', includeThoughts: true }],
    ['gemini-3.1-pro', 'xhigh', { thinkingLevel: 'HIGH', includeThoughts: true }],
    ['gemini-flash-latest', 'high', { thinkingBudget: 4096, includeThoughts: true }],
    ['gemini-2.0-flash', 'high', 'unsupported'],
    ['gemini-2.0-flash', 'none', undefined],
  ])('%s with reasoning_effort %s -> %j', (model, effort, expected) => {
    expect(thinkingConfig(model, effort)).toEqual(expected);
  });

  it('never sends thinkingBudget and thinkingLevel together, and declares non-thinking models unsupported', () => {
    const cfg = bodyOf({ reasoning_effort: 'high' }, reject, 'gemini-3-pro-preview').generationConfig.thinkingConfig;
    expect(cfg).toEqual({ thinkingLevel: 'HIGH', includeThoughts: true });
    expect(caught(() => build({ reasoning_effort: 'high' }, reject, 'gemini-2.0-flash'))).toMatchObject({ code: ErrorCode.UnsupportedParameter, details: { param: 'reasoning_effort' } });
    expect(bodyOf({ reasoning_effort: 'high' }, drop, 'gemini-2.0-flash')).not.toHaveProperty('generationConfig');
  });

  it.each(['logit_bias', 'audio', 'modalities', 'prediction', 'web_search_options', 'verbosity'] as const)('rejects %s with a 400 naming it, or drops it', (param) => {
    const values: Partial<ChatRequest> = {
      logit_bias: { '50256': -100 },
      audio: { voice: 'alloy' },
      modalities: ['text', 'audio'],
      prediction: { type: 'content' },
      web_search_options: {},
      verbosity: 'low',
    };
    const req = { [param]: values[param] };
    expect(caught(() => build(req))).toMatchObject({ code: ErrorCode.UnsupportedParameter, details: { param } });
    expect(() => build(req, drop)).not.toThrow();
  });

  it('never forwards the gateway fields', () => {
    const body = bodyOf({ models: ['a/b'], provider: { order: ['x'] } });
    expect(JSON.stringify(body)).not.toMatch(/models|provider/);
  });
});

describe("Gemini request: OpenRouter's reasoning object", () => {
  const mapped = (reasoning: ChatRequest['reasoning'], model: string) => bodyOf(applyReasoningObject({ model: 'google/x', messages: [{ role: 'user', content: 'hi' }], reasoning }), reject, model).generationConfig;

  it('takes reasoning.max_tokens as thinkingBudget on 2.5, the effort bucket as thinkingLevel on 3', () => {
    expect(mapped({ max_tokens: 3000 }, 'gemini-2.5-flash').thinkingConfig).toEqual({ thinkingBudget: 3000, includeThoughts: true });
    expect(mapped({ max_tokens: 20000 }, 'gemini-3.5-flash').thinkingConfig).toEqual({ thinkingLevel: 'HIGH', includeThoughts: true });
    expect(mapped({ effort: 'low' }, 'gemini-2.5-flash').thinkingConfig).toEqual({ thinkingBudget: 1024, includeThoughts: true });
    expect(mapped({ enabled: false }, 'gemini-2.5-flash').thinkingConfig).toEqual({ thinkingBudget: 0 });
    // Held to each model's range, which Gemini enforces.
    expect(mapped({ max_tokens: 50 }, 'gemini-2.5-pro').thinkingConfig).toMatchObject({ thinkingBudget: 128 });
    expect(mapped({ max_tokens: 40000 }, 'gemini-2.5-flash').thinkingConfig).toMatchObject({ thinkingBudget: 24576 });
    expect(mapped({ max_tokens: 200 }, 'gemini-2.5-flash-lite').thinkingConfig).toMatchObject({ thinkingBudget: 512 });
  });

  it('ignores it on a model that does not think, as OpenRouter does', () => {
    expect(mapped({ effort: 'high' }, 'gemini-2.0-flash')).toBeUndefined();
  });

  it('refuses (reject) or drops (drop) the open-model sampling parameters', () => {
    expect(caught(() => build({ repetition_penalty: 1.2 })).details.param).toBe('repetition_penalty');
    expect(bodyOf({ repetition_penalty: 1.2, min_p: 0.1 }, drop).generationConfig).toBeUndefined();
  });
});

describe('Gemini request: what /v1/messages maps from Anthropic fields', () => {
  it('carries top_k as generationConfig.topK (wire-formats.md §3.3, §4.9)', () => {
    expect(bodyOf({ top_k: 40, temperature: 0.5 }).generationConfig).toMatchObject({ topK: 40, temperature: 0.5 });
  });

  it("holds stopSequences to 5: refused naming the client's field (reject), the first five kept (drop)", () => {
    const six = ['1', '2', '3', '4', '5', '6'];
    const e = caught(() => build({ stop: six, client_names: { stop: 'stop_sequences' } }));
    expect(e.code).toBe(ErrorCode.UnsupportedParameter);
    expect(e.details.param).toBe('stop_sequences');
    expect(bodyOf({ stop: six }, drop).generationConfig.stopSequences).toEqual(['1', '2', '3', '4', '5']);
    expect(bodyOf({ stop: six.slice(0, 5) }).generationConfig.stopSequences).toEqual(six.slice(0, 5));
  });

  it('sends a failed tool result as {"error": ...} (wire-formats.md §3.2)', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'run' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'fc-1', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'fc-2', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'fc-1', content: 'permission denied', is_error: true },
      { role: 'tool', tool_call_id: 'fc-2', content: '{"ok":true}' },
    ];
    expect(bodyOf({ messages }).contents[2].parts).toEqual([
      { functionResponse: { name: 'f', id: 'fc-1', response: { error: 'permission denied' } } },
      { functionResponse: { name: 'f', id: 'fc-2', response: { output: { ok: true } } } },
    ]);
  });

  it('drops thinking for a model that does not think, whatever the policy (an OpenAI effort is still refused)', () => {
    const fromThinking = { reasoning_effort: 'low' as const, client_names: { reasoning_effort: 'thinking' } };
    expect(bodyOf(fromThinking, reject, 'gemini-2.0-flash').generationConfig?.thinkingConfig).toBeUndefined();
    expect(caught(() => build({ reasoning_effort: 'low' }, reject, 'gemini-2.0-flash')).details.param).toBe('reasoning_effort');
  });
});

describe('Gemini embeddings request', () => {
  const t = { baseUrl: 'http://h/v1beta', apiKey: 'k', upstreamModel: 'gemini-embedding-001' };
  const embed = geminiAdapter.buildEmbeddingsRequest;
  if (embed === undefined) throw new Error('google has embeddings');

  it('uses embedContent for one text and batchEmbedContents for several, dimensions as outputDimensionality', () => {
    const one = embed.call(geminiAdapter, { model: 'google/x', input: 'hello', dimensions: 256 }, t, { unsupportedParams: 'reject' });
    expect(one.url).toBe('http://h/v1beta/models/gemini-embedding-001:embedContent');
    expect(one.headers['x-goog-api-key']).toBe('k');
    expect(JSON.parse(one.body)).toEqual({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 256 });
    const many = embed.call(geminiAdapter, { model: 'google/x', input: ['a', 'b'] }, t, { unsupportedParams: 'reject' });
    expect(many.url).toBe('http://h/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(JSON.parse(many.body)).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] } },
      ],
    });
  });

  it('refuses token-id input and malformed input', () => {
    expect(caught(() => embed.call(geminiAdapter, { model: 'x', input: [1, 2, 3] }, t, { unsupportedParams: 'drop' }))).toMatchObject({ code: ErrorCode.UnsupportedParameter, details: { param: 'input' } });
    expect(caught(() => embed.call(geminiAdapter, { model: 'x', input: [] }, t, { unsupportedParams: 'drop' }))).toMatchObject({ code: ErrorCode.InvalidBody, details: { param: 'input' } });
  });
});
