import { quantSpec } from '../../src/hub/gguf-source.js';
import { resolveSettings, type Settings } from '../../src/core/settings.js';
import type { GpuFacts } from '../../src/probe/gpu-facts.js';
import { parseNvidiaSmiCsv, type ParsedNvidiaGpu } from '../../src/probe/nvidia-smi.js';
import { parsePythonEnvOutput } from '../../src/probe/python-facts.js';
import type { MachineFacts } from '../../src/probe/scan.js';
import type { EvaluationInput } from '../../src/probe/verdict.js';
import type { WeightsFacts } from '../../src/probe/weights-facts.js';
import { sample } from './samples.js';

/** Builders of probe facts for the pure evaluation tests, starting from the real samples in probes/samples. */

export function nvidiaGpus(sampleName: string): ParsedNvidiaGpu[] {
  const result = parseNvidiaSmiCsv(sample(sampleName));
  if (!result.ok) throw new Error(result.error);
  return result.gpus;
}

export function gpuFacts(sampleName: string): GpuFacts {
  const gpus = nvidiaGpus(sampleName);
  return { status: 'ok', all: gpus, visible: gpus };
}

export function pythonFacts(sampleName = 'python-env-no-vllm.json'): MachineFacts['python'] {
  const env = parsePythonEnvOutput(sample(sampleName));
  if (!env) throw new Error(`bad sample ${sampleName}`);
  return { status: 'ok', interpreter: 'python3', env };
}

export function machine(
  overrides: Partial<MachineFacts> = {},
  system: Partial<MachineFacts['system']> = {},
): MachineFacts {
  return {
    gpu: { status: 'absent' },
    python: pythonFacts(),
    system: {
      memory: { totalGiB: 32, availableGiB: 24, source: 'systeminformation' },
      cpu: { physical: 8, logical: 16 },
      otherGpus: [],
      ...system,
    },
    disk: { ok: true, value: { path: '/home/user/.cache/huggingface', freeGiB: 200 } },
    cacheDir: '/home/user/.cache/huggingface/hub',
    elapsedMs: 10,
    ...overrides,
  };
}

export function weights(
  model: string,
  overrides: { vllmCached?: boolean; ggufCached?: boolean } = {},
): WeightsFacts {
  const e4b = model.includes('E4B');
  const repo = model.endsWith('-it') ? `ggml-org/${model.slice(7)}-GGUF` : `unsloth/${model.slice(7)}-GGUF`;
  return {
    vllm: {
      repo: model,
      cached: overrides.vllmCached ?? false,
      // The catalog's safetensors bytes in GiB.
      sizeGiB: e4b ? 14.89 : 9.54,
      sizeSource: 'estimate',
    },
    gguf: {
      spec: quantSpec(repo),
      label: `hf:${repo}`,
      cached: overrides.ggufCached ?? false,
      ...(overrides.ggufCached ? { path: `/cache/${repo}/model-Q4_K_M.gguf` } : {}),
      sizeGiB: e4b ? 4.97 : 2.89,
      sizeSource: 'estimate',
    },
  };
}

export function settings(
  env: NodeJS.ProcessEnv = {},
  flags: { model?: string; runtime?: string; media?: string } = {},
): Settings {
  return resolveSettings(env, flags);
}

export function input(
  facts: MachineFacts,
  options: {
    settings?: Settings;
    token?: EvaluationInput['token'];
    offline?: boolean;
    cached?: { vllmCached?: boolean; ggufCached?: boolean };
  } = {},
): EvaluationInput {
  return {
    settings: options.settings ?? settings(),
    facts,
    weightsFor: (model) => weights(model, options.cached),
    token: options.token ?? {},
    offline: options.offline ?? false,
    endpoint: 'https://huggingface.co',
    pythonFromEnv: false,
  };
}

export const WITH_VLLM = 'python-env-with-vllm.json';
export const TOKEN = { source: 'HF_TOKEN' as const };
