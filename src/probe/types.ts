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
}
