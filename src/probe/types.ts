import type { VariantId } from '../core/catalog.js';
import type { RuntimeChoice } from '../core/settings.js';

/**
 * The probe report: the stable `probe --json` schema (documented in README.md). Add fields, never rename.
 */

export type CheckName = 'gpu' | 'system' | 'python' | 'vllm' | 'hf-token' | 'vram' | 'disk' | 'ram';

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  /** Short human value, e.g. "NVIDIA L4, 21.9 GiB free" or "Python 3.11.7". Never a secret. */
  value: string;
  /** Why it failed (or a note when it passed with a caveat). */
  reason?: string;
  /** What the user can do about it. */
  hint?: string;
  /** The runtime this check concerns when only one needs it (absent: both). */
  runtime?: 'vllm' | 'llama-cpp';
}

export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  /** GiB (2^30 bytes); `null` when nvidia-smi reports [N/A] (e.g. MIG). */
  totalGiB: number | null;
  usedGiB: number | null;
  freeGiB: number | null;
  driverVersion: string | null;
  vendor: 'nvidia' | 'amd' | 'apple' | 'intel' | 'other';
}

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

/** What the probe knows about each runtime's weights (sizes in GiB). */
export interface ProbeWeights {
  /** The Hugging Face hub cache the checks looked in. */
  hubCache: string;
  vllm: { repo: string; cached: boolean; sizeGiB: number; sizeSource: 'measured' | 'hub' | 'estimate' };
  gguf: {
    source: string;
    cached: boolean;
    path?: string;
    sizeGiB: number;
    sizeSource: 'measured' | 'hub' | 'estimate';
  };
}

export interface ProbeReport {
  status: 'ready' | 'skipped';
  model: VariantId;
  /** The runtime that would serve (`null` when skipped). */
  runtime: 'vllm' | 'llama-cpp' | null;
  requestedRuntime: RuntimeChoice;
  deployment: string;
  autoProvision: 'on' | 'off' | 'skip-quietly';
  reason?: string;
  hint?: string;
  checks: CheckResult[];
  gpus: GpuInfo[];
  config: VllmReadyConfig | LlamaCppReadyConfig | null;
  /**
   * The GPU the runner should use (the visible one with the most free VRAM). CUDA numbers devices from the
   * first visible one, so provisioning pins it with `CUDA_VISIBLE_DEVICES=<uuid>` when it is not the first.
   */
  selectedGpu?: GpuInfo;
  weights?: ProbeWeights;
  /** Sentences worth knowing that are not failures (auto-provisioning off, CUDA_VISIBLE_DEVICES, estimates). */
  notes?: string[];
  /** How long the probe took, in milliseconds. */
  elapsedMs?: number;
}
