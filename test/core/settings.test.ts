import { describe, expect, it } from 'vitest';
import { closestVariantId, GEMMA_VARIANTS, VARIANT_IDS } from '../../src/core/catalog.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { resolveSettings } from '../../src/core/settings.js';

function errorOf(run: () => unknown): ConfigError | UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('defaults', () => {
  it('match the documented defaults with an empty environment', () => {
    expect(resolveSettings({}, {})).toEqual({
      auto: 'on',
      model: 'google/gemma-4-E4B-it',
      deployment: 'gemma-local',
      gpuMemoryUtilization: 0.5,
      maxModelLen: undefined,
      runtime: 'auto',
      cpuOffloadGb: undefined,
      python: 'python3',
      ggufOverride: undefined,
      media: 'multimodal',
    });
  });
});

describe('precedence: flag > env > default', () => {
  const env = {
    ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B',
    ATOMR_INFER_GEMMA_RUNTIME: 'vllm',
    ATOMR_INFER_GEMMA_DEPLOYMENT: 'from-env',
    ATOMR_INFER_GEMMA_MAX_LEN: '4096',
    ATOMR_INFER_GEMMA_GPU_UTIL: '0.7',
  };

  it('takes every value from the environment', () => {
    expect(resolveSettings(env, {})).toMatchObject({
      model: 'google/gemma-4-E2B',
      runtime: 'vllm',
      deployment: 'from-env',
      maxModelLen: 4096,
      gpuMemoryUtilization: 0.7,
    });
  });

  it('lets flags override the environment', () => {
    const flags = {
      model: 'google/gemma-4-E4B',
      runtime: 'llama-cpp',
      deployment: 'from-flag',
      maxLen: '2048',
      gpuUtil: 0.3,
    };
    expect(resolveSettings(env, flags)).toMatchObject({
      model: 'google/gemma-4-E4B',
      runtime: 'llama-cpp',
      deployment: 'from-flag',
      maxModelLen: 2048,
      gpuMemoryUtilization: 0.3,
    });
  });

  it('treats an empty flag as absent', () => {
    expect(resolveSettings(env, { model: '  ' }).model).toBe('google/gemma-4-E2B');
  });
});

describe('blank environment values count as unset', () => {
  it.each([
    'ATOMR_INFER_GEMMA_AUTO',
    'ATOMR_INFER_GEMMA_MODEL',
    'ATOMR_INFER_GEMMA_DEPLOYMENT',
    'ATOMR_INFER_GEMMA_GPU_UTIL',
    'ATOMR_INFER_GEMMA_MAX_LEN',
    'ATOMR_INFER_GEMMA_RUNTIME',
    'ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB',
    'ATOMR_INFER_PYTHON',
    'ATOMR_INFER_GEMMA_GGUF',
  ])('%s="" and "  " give the default', (name) => {
    expect(resolveSettings({ [name]: '' })).toEqual(resolveSettings({}));
    expect(resolveSettings({ [name]: '  \t' })).toEqual(resolveSettings({}));
  });
});

describe('accepted values', () => {
  it.each([
    ['1', 'on'],
    ['TRUE', 'on'],
    ['yes', 'on'],
    [' on ', 'on'],
    ['0', 'off'],
    ['false', 'off'],
    ['No', 'off'],
    ['off', 'off'],
    ['skip', 'off'],
    ['skip-quietly', 'skip-quietly'],
  ])('ATOMR_INFER_GEMMA_AUTO=%j → %s', (raw, auto) => {
    expect(resolveSettings({ ATOMR_INFER_GEMMA_AUTO: raw }).auto).toBe(auto);
  });

  it('reads numbers with surrounding spaces, exponents and the (0, 1] bounds', () => {
    expect(resolveSettings({ ATOMR_INFER_GEMMA_GPU_UTIL: ' 0.9 ' }).gpuMemoryUtilization).toBe(0.9);
    expect(resolveSettings({ ATOMR_INFER_GEMMA_GPU_UTIL: '1' }).gpuMemoryUtilization).toBe(1);
    expect(resolveSettings({ ATOMR_INFER_GEMMA_GPU_UTIL: '5e-1' }).gpuMemoryUtilization).toBe(0.5);
    expect(resolveSettings({ ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB: '0' }).cpuOffloadGb).toBe(0);
    expect(resolveSettings({ ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB: '2.5' }).cpuOffloadGb).toBe(2.5);
    expect(resolveSettings({ ATOMR_INFER_PYTHON: ' /opt/py/bin/python3.11 ' }).python).toBe(
      '/opt/py/bin/python3.11',
    );
  });

  it('accepts every catalog id, trimmed', () => {
    for (const id of VARIANT_IDS)
      expect(resolveSettings({ ATOMR_INFER_GEMMA_MODEL: ` ${id} ` }).model).toBe(id);
  });
});

describe('malformed values: one line naming the variable, the value and what is accepted (exit 2)', () => {
  const AUTO = 'one of 1, true, yes, on, 0, false, no, off, skip, skip-quietly';
  const MODELS = `a supported model (${VARIANT_IDS.join(', ')})`;
  it.each([
    ['ATOMR_INFER_GEMMA_AUTO', 'maybe', AUTO],
    ['ATOMR_INFER_GEMMA_MODEL', 'google/gemma-3-4b-it', MODELS],
    [
      'ATOMR_INFER_GEMMA_DEPLOYMENT',
      'my deployment',
      'a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)',
    ],
    [
      'ATOMR_INFER_GEMMA_DEPLOYMENT',
      '-leading-dash',
      'a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)',
    ],
    ['ATOMR_INFER_GEMMA_GPU_UTIL', '0', 'a number greater than 0 and at most 1 (e.g. 0.5)'],
    ['ATOMR_INFER_GEMMA_GPU_UTIL', '1.01', 'a number greater than 0 and at most 1 (e.g. 0.5)'],
    ['ATOMR_INFER_GEMMA_GPU_UTIL', '-0.5', 'a number greater than 0 and at most 1 (e.g. 0.5)'],
    ['ATOMR_INFER_GEMMA_GPU_UTIL', '50%', 'a number greater than 0 and at most 1 (e.g. 0.5)'],
    ['ATOMR_INFER_GEMMA_MAX_LEN', '0', 'a positive integer number of tokens (e.g. 8192)'],
    ['ATOMR_INFER_GEMMA_MAX_LEN', '8k', 'a positive integer number of tokens (e.g. 8192)'],
    ['ATOMR_INFER_GEMMA_MAX_LEN', '1024.5', 'a positive integer number of tokens (e.g. 8192)'],
    ['ATOMR_INFER_GEMMA_MAX_LEN', '-4096', 'a positive integer number of tokens (e.g. 8192)'],
    ['ATOMR_INFER_GEMMA_RUNTIME', 'ollama', 'one of auto, vllm, llama-cpp'],
    ['ATOMR_INFER_GEMMA_RUNTIME', 'VLLM', 'one of auto, vllm, llama-cpp'],
    ['ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB', '-1', 'a number of GB greater than or equal to 0'],
    ['ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB', 'four', 'a number of GB greater than or equal to 0'],
  ])('%s=%j', (name, value, accepted) => {
    const error = errorOf(() => resolveSettings({ [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toBe(`${name}=${JSON.stringify(value)} is not valid: expected ${accepted}`);
    expect(error.message).not.toContain('\n');
  });

  it('names the flag (a usage error) when the bad value comes from a flag', () => {
    const error = errorOf(() => resolveSettings({}, { gpuUtil: '2' }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toBe(
      '--gpu-util "2" is not valid: expected a number greater than 0 and at most 1 (e.g. 0.5)',
    );
    expect(errorOf(() => resolveSettings({}, { maxLen: 'x' })).message).toMatch(/^--ctx "x" is not valid/);
  });

  it('a bad flag wins over a good env value, and a good flag hides a bad env value', () => {
    expect(
      errorOf(() => resolveSettings({ ATOMR_INFER_GEMMA_RUNTIME: 'vllm' }, { runtime: 'x' })).message,
    ).toMatch(/^--runtime/);
    expect(resolveSettings({ ATOMR_INFER_GEMMA_RUNTIME: 'bogus' }, { runtime: 'vllm' }).runtime).toBe('vllm');
  });
});

describe('unknown model ids suggest the closest supported id', () => {
  it.each([
    ['google/gemma-4-E4B-IT', 'google/gemma-4-E4B-it'],
    ['gemma-4-e2b-it', 'google/gemma-4-E2B-it'],
    ['gemma-4-E4B', 'google/gemma-4-E4B'],
    ['google/gemma-4-E2', 'google/gemma-4-E2B'],
    ['E4B-it', 'google/gemma-4-E4B-it'],
  ])('%s → did you mean %s?', (typo, suggestion) => {
    expect(closestVariantId(typo)).toBe(suggestion);
    const error = errorOf(() => resolveSettings({ ATOMR_INFER_GEMMA_MODEL: typo }));
    expect(error.hint).toBe(`did you mean ${suggestion}?`);
    const flag = errorOf(() => resolveSettings({}, { model: typo }));
    expect(flag.message).toMatch(/^--model ".*" is not valid: expected a supported model/);
    expect(flag.hint).toBe(`did you mean ${suggestion}?`);
  });
});

describe('catalog', () => {
  it('holds the four ids with their real sizes (bytes), gating and fallbacks', () => {
    expect(
      GEMMA_VARIANTS.map((v) => [v.id, v.instructionTuned, v.gated, v.safetensorsBytes, v.fallback]),
    ).toEqual([
      ['google/gemma-4-E2B', false, false, 10_246_621_918, null],
      ['google/gemma-4-E2B-it', true, false, 10_246_621_918, null],
      ['google/gemma-4-E4B', false, false, 15_992_595_884, 'google/gemma-4-E2B'],
      ['google/gemma-4-E4B-it', true, false, 15_992_595_884, 'google/gemma-4-E2B-it'],
    ]);
  });
});
