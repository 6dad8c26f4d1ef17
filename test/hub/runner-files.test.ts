import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/core/retry.js';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../../src/hub/retry.js';
import { quantSpec } from '../../src/hub/gguf-source.js';
import { selectGgufFiles, selectVllmFiles } from '../../src/hub/runner-files.js';

describe('what a runner needs from a repo', () => {
  it('vLLM: top-level config, tokenizer, template and safetensors; no README, no other formats', () => {
    const listing = [
      '.gitattributes',
      'README.md',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'tokenizer.model',
      'chat_template.jinja',
      'processor_config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'original/params.json',
      'gguf/model.gguf',
      'assets/diagram.png',
    ];
    expect(selectVllmFiles(listing, 'org/m')).toEqual([
      'chat_template.jinja',
      'config.json',
      'generation_config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'processor_config.json',
      'tokenizer.json',
      'tokenizer.model',
      'tokenizer_config.json',
    ]);
  });

  it('vLLM: a repo without safetensors is a model error naming it', () => {
    expect(() => selectVllmFiles(['config.json', 'pytorch_model.bin'], 'org/m')).toThrow(
      'org/m has no safetensors weights',
    );
  });

  it('llama.cpp: every shard of a split GGUF, in order', () => {
    const listing = [
      'Q4_K_M/m-Q4_K_M-00002-of-00002.gguf',
      'Q4_K_M/m-Q4_K_M-00001-of-00002.gguf',
      'm-Q8_0.gguf',
    ];
    expect(selectGgufFiles(listing, quantSpec('o/r', 'q4_k_m'), 'o/r')).toEqual([
      'Q4_K_M/m-Q4_K_M-00001-of-00002.gguf',
      'Q4_K_M/m-Q4_K_M-00002-of-00002.gguf',
    ]);
  });

  it('llama.cpp: the catalog chain takes the first quant present (no Q4_K_M: Q4_0), never mmproj', () => {
    const chain = quantSpec('o/r');
    const noQ4KM = [
      'gemma-4-E2B-it-Q8_0.gguf',
      'gemma-4-E2B-it-Q4_0.gguf',
      'mmproj-gemma-4-E2B-it-Q4_K_M.gguf',
    ];
    expect(selectGgufFiles(noQ4KM, chain, 'o/r')).toEqual(['gemma-4-E2B-it-Q4_0.gguf']);
    expect(selectGgufFiles([...noQ4KM, 'gemma-4-E2B-it-Q4_K_M.gguf'], chain, 'o/r')).toEqual([
      'gemma-4-E2B-it-Q4_K_M.gguf',
    ]);
    // Google's QAT repo: `_q4_0-it` naming, and a projector that must not be taken for the model.
    expect(selectGgufFiles(['gemma-4-E4B-it-mmproj.gguf', 'gemma-4-E4B_q4_0-it.gguf'], chain, 'o/r')).toEqual(
      ['gemma-4-E4B_q4_0-it.gguf'],
    );
    expect(() => selectGgufFiles(['mmproj-m-Q8_0.gguf'], chain, 'o/r')).toThrow(
      'o/r has no Q4_K_M, Q4_0, Q5_K_M or Q8_0 GGUF',
    );
  });

  it('llama.cpp: a missing quant lists what the repo has', () => {
    expect(() =>
      selectGgufFiles(['m-Q8_0.gguf', 'mmproj-m-f16.gguf'], quantSpec('o/r', 'Q4_K_M'), 'o/r'),
    ).toThrow(expect.objectContaining({ hint: expect.stringContaining('available: m-Q8_0.gguf;') }));
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date, and caps it', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, 3_600_000)).toBe(DEFAULT_RETRY_POLICY.maxRetryAfterMs);
  });

  it('backs off exponentially within the policy bounds', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const delay = backoffDelay(attempt, DEFAULT_RETRY_POLICY);
      const ceiling = Math.min(
        DEFAULT_RETRY_POLICY.maxDelayMs,
        DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1),
      );
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});
