import { isOpenAiUsage, openAiUsageToTokenUsage, usageToOpenAi } from './openai-usage';

describe('usage conversions', () => {
  it('writes OpenAI usage: prompt includes cached, cache writes in prompt_tokens_details, reasoning in completion_tokens_details', () => {
    expect(usageToOpenAi({ promptTokens: 2006, cachedTokens: 1920, cacheWriteTokens: 50, completionTokens: 300, reasoningTokens: 192 })).toEqual({
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, cache_write_tokens: 50 },
      completion_tokens_details: { reasoning_tokens: 192 },
    });
  });

  it('omits cache_write_tokens when there were none', () => {
    expect(usageToOpenAi({ promptTokens: 9, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 12, reasoningTokens: 0 }).prompt_tokens_details).toEqual({
      cached_tokens: 0,
    });
  });

  it('reads OpenAI usage (the docs example: 2006 prompt, 1920 cached, 300 completion, 192 reasoning)', () => {
    expect(
      openAiUsageToTokenUsage({
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 192 },
      }),
    ).toEqual({ promptTokens: 2006, cachedTokens: 1920, cacheWriteTokens: 0, completionTokens: 300, reasoningTokens: 192 });
  });

  it('round-trips', () => {
    const u = { promptTokens: 100, cachedTokens: 40, cacheWriteTokens: 10, completionTokens: 30, reasoningTokens: 5 };
    expect(openAiUsageToTokenUsage(usageToOpenAi(u))).toEqual(u);
  });

  it('treats null details and missing numbers as zero', () => {
    expect(
      openAiUsageToTokenUsage({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, prompt_tokens_details: null, completion_tokens_details: null }),
    ).toEqual({ promptTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 2, reasoningTokens: 0 });
  });

  it('reads top-level cache hits when prompt_tokens_details is absent', () => {
    expect(openAiUsageToTokenUsage({ prompt_tokens: 50, completion_tokens: 1, total_tokens: 51, prompt_cache_hit_tokens: 32 }).cachedTokens).toBe(32);
  });

  it('adds reasoning to completion when the upstream reports it beside completion_tokens', () => {
    const u = { prompt_tokens: 10120, completion_tokens: 1499, total_tokens: 14428, completion_tokens_details: { reasoning_tokens: 2809 } };
    expect(openAiUsageToTokenUsage(u, { reasoningOutsideCompletion: true })).toMatchObject({ completionTokens: 4308, reasoningTokens: 2809 });
    expect(openAiUsageToTokenUsage(u)).toMatchObject({ completionTokens: 1499, reasoningTokens: 1499 });
  });

  it('recognises usage objects', () => {
    expect(isOpenAiUsage({ prompt_tokens: 1 })).toBe(true);
    expect(isOpenAiUsage(null)).toBe(false);
    expect(isOpenAiUsage({ input_tokens: 1 })).toBe(false);
  });
});
