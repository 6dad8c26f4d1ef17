import type { VariantId } from '../core/catalog.js';
import type { LlamaCppReadyConfig, VllmReadyConfig } from '../core/ready-config.js';
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
  /**
   * Where gating and download sizes came from: `hub` (asked now), `remembered` (an earlier probe's answer, in the
   * state directory) or `catalog` (offline, timed out, unreachable); and whether each repo is gated.
   */
  hub?: {
    source: 'hub' | 'remembered' | 'catalog';
    vllm: { repo: string; gated: boolean };
    gguf?: { repo: string; gated: boolean };
  };
  /** Sentences worth knowing that are not failures (auto-provisioning off, CUDA_VISIBLE_DEVICES, estimates). */
  notes?: string[];
  /** How long the probe took, in milliseconds. */
  elapsedMs?: number;
}
