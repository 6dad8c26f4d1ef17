import { z } from 'zod';
import { ENV } from '../../core/env-names.js';
import { ConfigError } from '../../core/errors.js';
import type { RunnerSpec } from '../../core/model-runner.js';
import type { VllmReadyConfig } from '../../core/ready-config.js';

/**
 * The vLLM runner's own settings (RunnerSpec.settings), validated here. Every engine field maps 1:1 onto a
 * `vllm.EngineArgs` keyword and is passed only when set, so vLLM's own defaults apply to everything else.
 */

const positiveInt = z.number().int().positive();

const ENGINE_FIELDS = {
  model: { schema: z.string().trim().min(1), kwarg: 'model', accepted: 'a model id or path' },
  tensorParallelSize: { schema: positiveInt, kwarg: 'tensor_parallel_size', accepted: 'a positive integer' },
  dtype: {
    schema: z.enum(['auto', 'half', 'float16', 'bfloat16', 'float', 'float32']),
    kwarg: 'dtype',
    accepted: 'one of auto, half, float16, bfloat16, float, float32',
  },
  gpuMemoryUtilization: {
    schema: z.number().gt(0).lte(1),
    kwarg: 'gpu_memory_utilization',
    accepted: 'a number greater than 0 and at most 1',
  },
  maxModelLen: {
    schema: positiveInt,
    kwarg: 'max_model_len',
    accepted: 'a positive integer number of tokens',
  },
  enforceEager: { schema: z.boolean(), kwarg: 'enforce_eager', accepted: 'true or false' },
  enablePrefixCaching: { schema: z.boolean(), kwarg: 'enable_prefix_caching', accepted: 'true or false' },
  enableChunkedPrefill: { schema: z.boolean(), kwarg: 'enable_chunked_prefill', accepted: 'true or false' },
  maxNumSeqs: { schema: positiveInt, kwarg: 'max_num_seqs', accepted: 'a positive integer' },
  blockSize: { schema: positiveInt, kwarg: 'block_size', accepted: 'a positive integer (e.g. 16)' },
  quantization: {
    schema: z.string().trim().min(1),
    kwarg: 'quantization',
    accepted: 'a vLLM quantization method (e.g. fp8, awq)',
  },
  limitMmPerPrompt: {
    schema: z.record(z.string().min(1), z.number().int().nonnegative()),
    kwarg: 'limit_mm_per_prompt',
    accepted: 'an object of modality → count (e.g. {"image": 0})',
  },
  cpuOffloadGb: { schema: z.number().gte(0), kwarg: 'cpu_offload_gb', accepted: 'a number of GB ≥ 0' },
} as const;

type EngineField = keyof typeof ENGINE_FIELDS;

export interface VllmConfig {
  /** Model id or local path; defaults to the spec's weights. */
  model?: string;
  tensorParallelSize: number;
  dtype: z.output<(typeof ENGINE_FIELDS)['dtype']['schema']>;
  gpuMemoryUtilization?: number;
  maxModelLen?: number;
  /** Hugging Face hub cache the engine reads (HF_HUB_CACHE); not an EngineArgs field. */
  hfCacheDir?: string;
  enforceEager?: boolean;
  enablePrefixCaching?: boolean;
  enableChunkedPrefill?: boolean;
  maxNumSeqs?: number;
  blockSize?: number;
  quantization?: string;
  limitMmPerPrompt?: Record<string, number>;
  cpuOffloadGb?: number;
}

/** Where the engine's Python logs go: our stderr (redacted) or nowhere (a full-screen UI owns the terminal). */
export type EngineLogs = 'stderr' | 'silent';

export interface VllmRunnerSettings {
  config: VllmConfig;
  /** Interpreter as configured (`python3`, a path): resolved to an absolute path when the engine starts. */
  python: string;
  engineLogs: EngineLogs;
}

const OTHER_FIELDS = {
  hfCacheDir: { schema: z.string().trim().min(1), accepted: 'a directory path' },
  python: { schema: z.string().trim().min(1), accepted: 'a Python interpreter name or path' },
  engineLogs: { schema: z.enum(['stderr', 'silent']), accepted: 'stderr or silent' },
} as const;

function parseField<T>(key: string, raw: unknown, schema: z.ZodType<T>, accepted: string): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      `vLLM runner setting ${key}=${JSON.stringify(raw)} is not valid: expected ${accepted}`,
    );
  }
  return result.data;
}

/** Validates RunnerSpec.settings. Unknown keys are ignored (a deployment record may carry other runners' keys). */
export function parseVllmSettings(
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): VllmRunnerSettings {
  const config: VllmConfig = { tensorParallelSize: 1, dtype: 'auto' };
  const target = config as unknown as Record<string, unknown>;
  for (const key of Object.keys(ENGINE_FIELDS) as EngineField[]) {
    const raw = settings[key];
    if (raw === undefined || raw === null) continue;
    const { schema, accepted } = ENGINE_FIELDS[key];
    target[key] = parseField(key, raw, schema as z.ZodType<unknown>, accepted);
  }
  const field = <K extends keyof typeof OTHER_FIELDS>(key: K) => {
    const raw = settings[key];
    if (raw === undefined || raw === null) return undefined;
    const { schema, accepted } = OTHER_FIELDS[key];
    type Output = z.output<(typeof OTHER_FIELDS)[K]['schema']>;
    return parseField(key, raw, schema as unknown as z.ZodType<Output>, accepted);
  };
  const hfCacheDir = field('hfCacheDir');
  if (hfCacheDir !== undefined) config.hfCacheDir = hfCacheDir;
  const envPython = env[ENV.python]?.trim();
  return {
    config,
    python: field('python') ?? (envPython ? envPython : 'python3'),
    engineLogs: field('engineLogs') ?? 'stderr',
  };
}

/** The model vLLM loads: the config's, else the weights' repo/path, else the spec's model id. */
export function engineModel(spec: RunnerSpec, config: VllmConfig): { model: string; revision?: string } {
  if (config.model) return { model: config.model };
  const weights = spec.weights;
  switch (weights.kind) {
    case 'huggingface':
      return weights.revision ? { model: weights.repo, revision: weights.revision } : { model: weights.repo };
    case 'local-path':
      return { model: weights.path };
    case 'runtime-managed':
      return { model: weights.id || spec.model };
  }
}

/** `vllm.EngineArgs(**kwargs)`: snake_case, only the fields that are set. */
export function engineKwargs(config: VllmConfig, model: string, revision?: string): Record<string, unknown> {
  const kwargs: Record<string, unknown> = { model };
  if (revision !== undefined) kwargs.revision = revision;
  const source = config as unknown as Record<string, unknown>;
  for (const key of Object.keys(ENGINE_FIELDS) as EngineField[]) {
    if (key === 'model') continue;
    const value = source[key];
    if (value !== undefined) kwargs[ENGINE_FIELDS[key].kwarg] = value;
  }
  return kwargs;
}

/** The probe's ready config (snake_case, as provisioning writes it) as runner settings. */
export function vllmConfigFromReady(ready: VllmReadyConfig): VllmConfig {
  const config: VllmConfig = {
    model: ready.model,
    tensorParallelSize: 1,
    dtype: ready.dtype,
    gpuMemoryUtilization: ready.gpu_memory_utilization,
    enforceEager: ready.enforce_eager,
    maxNumSeqs: ready.max_num_seqs,
    cpuOffloadGb: ready.cpu_offload_gb,
  };
  if (ready.max_model_len !== undefined) config.maxModelLen = ready.max_model_len;
  if (ready.limit_mm_per_prompt !== undefined) config.limitMmPerPrompt = { ...ready.limit_mm_per_prompt };
  return config;
}
