import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, RuntimeFailure } from '../../../src/core/errors.js';
import type { VllmReadyConfig } from '../../../src/core/ready-config.js';
import {
  engineKwargs,
  engineModel,
  parseVllmSettings,
  vllmConfigFromReady,
} from '../../../src/runners/vllm/config.js';
import { resolvePythonInterpreter } from '../../../src/runners/vllm/interpreter.js';

const spec = {
  runtime: 'vllm' as const,
  model: 'google/gemma-4-E2B-it',
  weights: { kind: 'huggingface' as const, repo: 'google/gemma-4-E2B-it' },
  settings: {},
};

describe('vLLM settings', () => {
  it('passes only the fields that are set, in vLLM spelling', () => {
    const { config } = parseVllmSettings(
      { gpuMemoryUtilization: 0.45, maxModelLen: 4096, enforceEager: true },
      {},
    );
    expect(engineKwargs(config, 'google/gemma-4-E2B-it')).toEqual({
      model: 'google/gemma-4-E2B-it',
      tensor_parallel_size: 1,
      dtype: 'auto',
      gpu_memory_utilization: 0.45,
      max_model_len: 4096,
      enforce_eager: true,
    });
  });

  it('maps every engine field onto its EngineArgs keyword', () => {
    const { config } = parseVllmSettings(
      {
        tensorParallelSize: 2,
        dtype: 'bfloat16',
        enablePrefixCaching: false,
        enableChunkedPrefill: true,
        maxNumSeqs: 8,
        blockSize: 32,
        quantization: 'fp8',
        limitMmPerPrompt: { image: 0 },
        cpuOffloadGb: 0,
        hfCacheDir: '/cache/hub',
      },
      {},
    );
    expect(engineKwargs(config, 'm', 'abc123')).toEqual({
      model: 'm',
      revision: 'abc123',
      tensor_parallel_size: 2,
      dtype: 'bfloat16',
      enable_prefix_caching: false,
      enable_chunked_prefill: true,
      max_num_seqs: 8,
      block_size: 32,
      quantization: 'fp8',
      limit_mm_per_prompt: { image: 0 },
      cpu_offload_gb: 0,
    });
    expect(config.hfCacheDir).toBe('/cache/hub');
  });

  it('rejects a bad value with a one-line error naming the setting and what is accepted', () => {
    expect(() => parseVllmSettings({ gpuMemoryUtilization: 1.5 }, {})).toThrow(ConfigError);
    expect(() => parseVllmSettings({ gpuMemoryUtilization: 1.5 }, {})).toThrow(
      'vLLM runner setting gpuMemoryUtilization=1.5 is not valid: expected a number greater than 0 and at most 1',
    );
    expect(() => parseVllmSettings({ dtype: 'int3' }, {})).toThrow(/dtype="int3".*one of auto/);
    expect(() => parseVllmSettings({ maxNumSeqs: 2.5 }, {})).toThrow(/maxNumSeqs=2\.5/);
    expect(() => parseVllmSettings({ engineLogs: 'loud' }, {})).toThrow(
      /engineLogs="loud".*stderr or silent/,
    );
  });

  it('takes the interpreter from settings, then ATOMR_INFER_PYTHON, then python3', () => {
    expect(parseVllmSettings({ python: '/opt/py/bin/python' }, { ATOMR_INFER_PYTHON: '/x' }).python).toBe(
      '/opt/py/bin/python',
    );
    expect(parseVllmSettings({}, { ATOMR_INFER_PYTHON: '/venv/bin/python' }).python).toBe('/venv/bin/python');
    expect(parseVllmSettings({}, {}).python).toBe('python3');
  });

  it('loads the weights the spec names unless the config names a model', () => {
    const { config } = parseVllmSettings({}, {});
    expect(engineModel(spec, config)).toEqual({ model: 'google/gemma-4-E2B-it' });
    expect(engineModel({ ...spec, weights: { kind: 'local-path', path: '/models/gemma' } }, config)).toEqual({
      model: '/models/gemma',
    });
    expect(
      engineModel(
        { ...spec, weights: { kind: 'huggingface', repo: 'google/gemma-4-E4B-it', revision: 'r1' } },
        config,
      ),
    ).toEqual({ model: 'google/gemma-4-E4B-it', revision: 'r1' });
    expect(engineModel(spec, { ...config, model: '/elsewhere' })).toEqual({ model: '/elsewhere' });
  });

  it("maps the probe's ready config onto the runner config", () => {
    const ready: VllmReadyConfig = {
      runtime: 'vllm',
      model: 'google/gemma-4-E4B-it',
      dtype: 'auto',
      gpu_memory_utilization: 0.5,
      max_model_len: 8192,
      enforce_eager: true,
      max_num_seqs: 4,
      cpu_offload_gb: 0,
    };
    const config = vllmConfigFromReady(ready);
    expect(engineKwargs(config, config.model ?? '')).toEqual({
      model: 'google/gemma-4-E4B-it',
      tensor_parallel_size: 1,
      dtype: 'auto',
      gpu_memory_utilization: 0.5,
      max_model_len: 8192,
      enforce_eager: true,
      max_num_seqs: 4,
      cpu_offload_gb: 0,
    });
    // Round trip: what provisioning stores as settings validates as runner settings.
    expect(parseVllmSettings({ ...config }, {}).config).toEqual(config);
    const { max_model_len: _drop, ...withoutLen } = ready;
    expect(vllmConfigFromReady(withoutLen).maxModelLen).toBeUndefined();
  });
});

function captureError(fn: () => unknown): RuntimeFailure {
  try {
    fn();
  } catch (error) {
    return error as RuntimeFailure;
  }
  throw new Error('expected an error');
}

describe('Python interpreter resolution', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomr-python-'));
  const bin = join(dir, 'bin');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fakePython = join(dir, 'python-real');
  writeFileSync(fakePython, '#!/bin/sh\n');
  chmodSync(fakePython, 0o755);

  it('finds a bare name on PATH and returns an absolute path, keeping venv symlinks', () => {
    mkdirSync(bin, { recursive: true });
    symlinkSync(fakePython, join(bin, 'python3'));
    expect(resolvePythonInterpreter('python3', { PATH: `/nonexistent:${bin}` })).toBe(join(bin, 'python3'));
    expect(resolvePythonInterpreter(fakePython, { PATH: '' })).toBe(fakePython);
  });

  it('fails clearly when the interpreter does not exist', () => {
    expect(() => resolvePythonInterpreter('python9.99', { PATH: bin })).toThrow(RuntimeFailure);
    expect(() => resolvePythonInterpreter('python9.99', { PATH: bin })).toThrow(
      'Python interpreter "python9.99" was not found on PATH',
    );
    const error = captureError(() => resolvePythonInterpreter('/no/such/python', { PATH: bin }));
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error.message).toBe('Python interpreter "/no/such/python" was not found at /no/such/python');
    expect(error.hint).toMatch(/ATOMR_INFER_PYTHON/);
    expect(error.exitCode).toBe(5);
  });
});
