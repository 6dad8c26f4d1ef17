import { GEMMA_CONTEXT_LENGTH, type GemmaVariant } from '../core/catalog.js';
import { BYTES_PER_GIB, bytesToGiB } from './units.js';

/**
 * The probe's sizing rules in one place (documented in docs/probe.md). They are estimates with a margin:
 * the probe should rather say "does not fit" than promise a model that then fails to load.
 */

/** Free disk space kept beyond a download (temporary files, metadata, the filesystem's own slack). */
export const DISK_HEADROOM_GIB = 0.5;

/** llama.cpp context sizes tried, largest first, when ATOMR_INFER_GEMMA_MAX_LEN does not fix one. */
export const LLAMACPP_CONTEXT_CANDIDATES = [8192, 4096, 2048] as const;

/**
 * KV cache per token at f16, rounded up for both Gemma 4 edge variants (≈35 layers × 2 KV heads × 256 dims
 * × K and V × 2 bytes ≈ 70 KiB; sliding-window and shared-KV layers only make it smaller).
 */
export const KV_GIB_PER_TOKEN = (80 * 1024) / BYTES_PER_GIB;

/** llama.cpp compute buffers, the tokenizer/vocabulary and Node's own heap. */
export const LLAMACPP_OVERHEAD_GIB = 0.5;

/** vLLM engine defaults the probe proposes: sized for a local, single-user model. */
export const VLLM_MAX_NUM_SEQS = 16;

/**
 * The profiled activation peak vLLM measures in `profile_run()` (torch_peak_increase): the dummy batch of
 * `max_num_batched_tokens` through the decoder, the encoder dummy batch of a multimodal model (Gemma 4's vision
 * and audio towers), and the logits of the 262,144-token vocabulary. 1–2 GiB at default settings: the upper end,
 * so the probe rather says "does not fit" than promises a start vLLM refuses.
 */
export const VLLM_ACTIVATION_PEAK_GIB = 1.5;

/**
 * The share of that peak a multimodal start adds: vLLM profiles the vision and audio encoders on a dummy batch of
 * the largest item (an image of 280–1120 soft tokens, 30 s of audio) and sizes the encoder cache. Text-only
 * provisioning sets limit_mm_per_prompt to 0 for every modality, which skips it. (The towers' weights, ≈0.15 B
 * vision + ≈0.3 B audio parameters in BF16, are in the safetensors bytes and the resident share either way.)
 */
export const VLLM_ENCODER_PROFILE_GIB = 0.5;

/** What text-only provisioning gives vLLM as `limit_mm_per_prompt`. */
export const TEXT_ONLY_MM_LIMITS = { image: 0, audio: 0, video: 0 } as const;

/** Memory that is not torch's (non_torch_increase): the CUDA context, cuBLAS workspaces, NCCL; 0.5–1 GiB. */
export const VLLM_NON_TORCH_GIB = 1;

/**
 * vLLM's own accounting (vllm/v1/worker/gpu_worker.py `determine_available_memory`, vllm/utils/mem_utils.py
 * `memory_profiling`), the one formula the vram check and `cpu_offload_gb` both follow:
 *
 *   weights − cpu_offload + activation peak + non-torch + KV cache for max_model_len  ≤  total × gpu_memory_utilization
 *
 * - weights: the safetensors bytes (measured in the cache, read from the Hub, or the catalog's); vLLM's
 *   `model_memory_usage`.
 * - cpu_offload: `cpu_offload_gb` GiB moved to pinned CPU memory; at most weights − the variant's
 *   `gpuResidentBytes` (the PLE table and the towers, which the offloader cannot move).
 * - activation peak, non-torch: the constants above (vLLM profiles them; we cannot without loading the model).
 * - KV cache: vLLM refuses to start unless one request of `max_model_len` tokens fits ("To serve at least one
 *   request with the model's max seq len …"); `max_model_len` defaults to the model's 131,072.
 * - total × gpu_memory_utilization: vLLM's `requested_memory`; it must also be free at start, or vLLM raises
 *   "Free memory on device … is less than desired GPU memory utilization" (the vram check's second test).
 * CUDA graphs are left out: the probe's config sets `enforce_eager`, which skips their capture.
 */
export interface VllmMemoryPlan {
  weightsGiB: number;
  /** The least the weights can shrink to on the GPU (everything the offloader can move, moved). */
  residentGiB: number;
  activationGiB: number;
  nonTorchGiB: number;
  kvCacheGiB: number;
  maxModelLen: number;
  /** total × gpu_memory_utilization. */
  budgetGiB: number;
  /** Everything on the GPU without offloading. */
  needGiB: number;
  /** Everything on the GPU with the most offloading. */
  minNeedGiB: number;
  /** GiB of weights to offload (0.5 steps) so the need fits the budget; `undefined` when nothing makes it fit. */
  cpuOffloadGiB: number | undefined;
}

export function vllmMemoryPlan(
  variant: Pick<GemmaVariant, 'gpuResidentBytes' | 'kvBytesPerToken' | 'slidingKvBytes'>,
  weightsGiB: number,
  totalGiB: number,
  util: number,
  maxModelLen: number = GEMMA_CONTEXT_LENGTH,
  media: 'multimodal' | 'text-only' = 'multimodal',
): VllmMemoryPlan {
  const kvCacheGiB = bytesToGiB(maxModelLen * variant.kvBytesPerToken + variant.slidingKvBytes);
  const residentGiB = Math.min(weightsGiB, bytesToGiB(variant.gpuResidentBytes));
  const activationGiB = VLLM_ACTIVATION_PEAK_GIB + (media === 'multimodal' ? VLLM_ENCODER_PROFILE_GIB : 0);
  const rest = activationGiB + VLLM_NON_TORCH_GIB + kvCacheGiB;
  const budgetGiB = util * totalGiB;
  const needGiB = weightsGiB + rest;
  const minNeedGiB = residentGiB + rest;
  const shortfall = needGiB - budgetGiB;
  const cpuOffloadGiB =
    shortfall <= 0
      ? 0
      : minNeedGiB > budgetGiB
        ? undefined
        : // minNeed ≤ budget means moving everything movable is enough, so the rounded step never exceeds that.
          Math.min(Math.ceil(shortfall * 2) / 2, Math.ceil((weightsGiB - residentGiB) * 100) / 100);
  return {
    weightsGiB,
    residentGiB,
    activationGiB,
    nonTorchGiB: VLLM_NON_TORCH_GIB,
    kvCacheGiB,
    maxModelLen,
    budgetGiB,
    needGiB,
    minNeedGiB,
    cpuOffloadGiB,
  };
}

export function llamaCppNeedGiB(ggufGiB: number, contextSize: number): number {
  return ggufGiB + contextSize * KV_GIB_PER_TOKEN + LLAMACPP_OVERHEAD_GIB;
}
