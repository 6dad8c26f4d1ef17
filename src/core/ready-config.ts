import type { VariantId } from './catalog.js';

/**
 * The settings a `ready` probe hands to provisioning, and provisioning to a runner: the contract between the probe
 * and the runners, so it lives below both (neither imports the other).
 */

/** What provisioning hands to `vllm.EngineArgs(**kwargs)` (snake_case, as vLLM spells it). */
export interface VllmReadyConfig {
  runtime: 'vllm';
  model: VariantId;
  dtype: 'auto';
  gpu_memory_utilization: number;
  max_model_len?: number;
  enforce_eager: true;
  max_num_seqs: number;
  cpu_offload_gb: number;
  /** Text-only provisioning: `{image: 0, audio: 0, video: 0}` (no encoder profiling); absent: multimodal. */
  limit_mm_per_prompt?: Record<string, number>;
}

export interface LlamaCppReadyConfig {
  runtime: 'llama-cpp';
  model: VariantId;
  /** e.g. `hf:ggml-org/gemma-4-E2B-it-GGUF:Q4_K_M` or a local path. */
  gguf: string;
  /** "auto" lets node-llama-cpp fit layers into free VRAM; 0 on CPU-only machines. */
  gpuLayers: 'auto' | number;
  contextSize: number;
  threads: number;
  gpu: 'cuda' | 'metal' | 'vulkan' | false;
  /** The GGUF file already in the Hugging Face cache (or the local override), when there is one. */
  ggufPath?: string;
}
