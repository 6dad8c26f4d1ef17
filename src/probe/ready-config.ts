import type { Settings } from '../core/settings.js';
import { VLLM_MAX_NUM_SEQS, VLLM_RESERVE_GIB } from './requirements.js';
import { threadCountFor } from '../core/cpu-threads.js';
import type { LlamaCppReadyConfig, VllmReadyConfig } from '../core/ready-config.js';
import type { GpuInfo } from './types.js';
import type { CpuFacts } from './system-facts.js';
import type { WeightsFacts } from './weights-facts.js';

/** The runner configuration provisioning would use when the probe says ready. */

/**
 * GiB of weights vLLM must keep in CPU memory: what the weights plus a short-context reserve need beyond the
 * share of the GPU vLLM may take (gpu_memory_utilization × total), rounded up to 0.5 GiB. Zero when it fits.
 * `ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB` overrides it.
 */
export function derivedCpuOffloadGiB(weightsGiB: number, util: number, gpu: GpuInfo): number {
  const budget = util * (gpu.totalGiB ?? 0);
  const shortfall = weightsGiB + VLLM_RESERVE_GIB - budget;
  if (shortfall <= 0) return 0;
  return Math.min(Math.ceil(shortfall * 2) / 2, Math.ceil(weightsGiB * 2) / 2);
}

export function vllmReadyConfig(settings: Settings, weights: WeightsFacts, gpu: GpuInfo): VllmReadyConfig {
  return {
    runtime: 'vllm',
    model: settings.model,
    dtype: 'auto',
    gpu_memory_utilization: settings.gpuMemoryUtilization,
    ...(settings.maxModelLen === undefined ? {} : { max_model_len: settings.maxModelLen }),
    enforce_eager: true,
    max_num_seqs: VLLM_MAX_NUM_SEQS,
    cpu_offload_gb:
      settings.cpuOffloadGb ?? derivedCpuOffloadGiB(weights.vllm.sizeGiB, settings.gpuMemoryUtilization, gpu),
  };
}

export function llamaCppReadyConfig(
  settings: Settings,
  weights: WeightsFacts,
  contextSize: number,
  cpu: CpuFacts,
  backend: 'cuda' | 'metal' | 'vulkan' | undefined,
): LlamaCppReadyConfig {
  return {
    runtime: 'llama-cpp',
    model: settings.model,
    gguf: weights.gguf.label,
    gpuLayers: backend ? 'auto' : 0,
    contextSize,
    // The llama.cpp runner's own rule (measured there), applied to the cores this scan found.
    threads: threadCountFor({ available: cpu.logical, physical: cpu.physical }),
    gpu: backend ?? false,
    ...(weights.gguf.path ? { ggufPath: weights.gguf.path } : {}),
  };
}
