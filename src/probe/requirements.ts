import { BYTES_PER_GIB } from './units.js';

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

/** GPU memory vLLM needs beyond the weights for a short-context KV cache and activations. */
export const VLLM_RESERVE_GIB = 1;

/** vLLM engine defaults the probe proposes: sized for a local, single-user model. */
export const VLLM_MAX_NUM_SEQS = 16;

export function llamaCppNeedGiB(ggufGiB: number, contextSize: number): number {
  return ggufGiB + contextSize * KV_GIB_PER_TOKEN + LLAMACPP_OVERHEAD_GIB;
}
