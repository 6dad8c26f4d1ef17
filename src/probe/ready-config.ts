import type { Settings } from '../core/settings.js';
import { getVariant } from '../core/catalog.js';
import { TEXT_ONLY_MM_LIMITS, VLLM_MAX_NUM_SEQS, vllmMemoryPlan } from './requirements.js';
import { threadCountFor } from '../core/cpu-threads.js';
import type { LlamaCppReadyConfig, VllmReadyConfig } from '../core/ready-config.js';
import type { GpuInfo } from './types.js';
import type { CpuFacts } from './system-facts.js';
import type { WeightsFacts } from './weights-facts.js';

/** The runner configuration provisioning would use when the probe says ready. */

/**
 * GiB of weights vLLM must keep in CPU memory: what vLLM's accounting (requirements.ts `vllmMemoryPlan`) needs
 * beyond the share of the GPU vLLM may take (gpu_memory_utilization × total), rounded up to 0.5 GiB. Zero when
 * it fits; the most that can move when even that is not enough (the vram check has then failed already).
 * `ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB` overrides it.
 */
export function derivedCpuOffloadGiB(settings: Settings, weightsGiB: number, gpu: GpuInfo): number {
  const plan = vllmMemoryPlan(
    getVariant(settings.model),
    weightsGiB,
    gpu.totalGiB ?? 0,
    settings.gpuMemoryUtilization,
    settings.maxModelLen,
    settings.media,
  );
  return plan.cpuOffloadGiB ?? Math.ceil((plan.weightsGiB - plan.residentGiB) * 100) / 100;
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
    cpu_offload_gb: settings.cpuOffloadGb ?? derivedCpuOffloadGiB(settings, weights.vllm.sizeGiB, gpu),
    ...(settings.media === 'text-only' ? { limit_mm_per_prompt: { ...TEXT_ONLY_MM_LIMITS } } : {}),
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
