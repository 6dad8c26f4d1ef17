/**
 * The Gemma 4 variant catalog: the one source of truth for ids, sizes, gating, GGUF sources, context length
 * and sampling defaults. Types, validation, help text, the probe's estimates and the runners' defaults all
 * derive from this file. Every number names where it came from (the Hub pages and public pins collected in
 * the issue 11 research notes); where sources disagree the design works with either answer (the GGUF quant
 * chain below), and online the probe asks the Hub and uses its answer instead (src/probe/hub-facts.ts).
 */

/**
 * Which GGUF quantisation to take from a repo, best first: the first one present in the repo's listing wins.
 * Repos differ and change (ggml-org/gemma-4-E2B-it-GGUF has been seen both with and without a Q4_K_M after
 * re-uploads), so a pull never fails just because one quant is missing. Q4_K_M is llama.cpp's own default
 * (`-hf` without a tag); Q4_0 is what Google's QAT GGUFs use; Q5_K_M and Q8_0 are larger fallbacks.
 * A multimodal projector (`mmproj-*`) is never picked for text.
 */
export const GGUF_QUANT_PREFERENCE = ['Q4_K_M', 'Q4_0', 'Q5_K_M', 'Q8_0'] as const;

/**
 * Context window of E2B/E4B: `max_position_embeddings` 131,072 in config.json
 * (https://huggingface.co/google/gemma-4-E4B-it/blob/main/config.json; llama.cpp logs `n_ctx_train = 131072`,
 * https://github.com/mudler/LocalAI/issues/9334). vLLM uses it as `max_model_len` when none is given.
 */
export const GEMMA_CONTEXT_LENGTH = 131_072;

/**
 * Google's sampling defaults for Gemma 4: generation_config.json `temperature 1.0, top_k 64, top_p 0.95`
 * (a copy at https://huggingface.co/soniqo/gemma-4-E4B-it-ONNX/blob/main/generation_config.json; Ollama's
 * Gemma 4 packages ship the same). Used when a request leaves a knob unset; `temperature: 0` means greedy.
 */
export const GEMMA_SAMPLING_DEFAULTS = { temperature: 1, topK: 64, topP: 0.95 } as const;

export interface GgufSource {
  /** Hugging Face repo holding GGUF conversions of this variant. */
  readonly repo: string;
  /**
   * Bytes of the file the preference chain most likely picks, used when the Hub is not asked (offline, timed
   * out): the larger candidate where sources disagree, so the disk check never under-reserves.
   */
  readonly expectedBytes: number;
}

/** A single GGUF file on the Hub (for the QAT alternative: an exact file, not a quant to pick). */
export interface GgufFile {
  readonly repo: string;
  readonly file: string;
  readonly bytes: number;
}

export interface GemmaVariant {
  readonly id: string;
  /** Instruction-tuned (`-it`): chat template. Base: plain completion. */
  readonly instructionTuned: boolean;
  /**
   * Whether the Hub repo asks users to accept a licence before download (needs a token). Gemma 4 is
   * Apache-2.0 and its repos are not gated (collection https://huggingface.co/api/collections/google/gemma-4:
   * `"gating":false`, items `"gated":false`; E2B-it pinned "gated=false on 2026-05-31"). Online, the probe
   * asks the Hub and trusts its answer over this.
   */
  readonly gated: boolean;
  /** Bytes of the BF16 safetensors weights vLLM downloads and loads (one `model.safetensors` per repo). */
  readonly safetensorsBytes: number;
  /**
   * Bytes of the weights vLLM keeps on the GPU whatever `cpu_offload_gb` says: the per-layer-embedding (PLE)
   * table `embed_tokens_per_layer` (a GPU VocabParallelEmbedding outside `make_layers`, which is all the
   * offloader moves) plus the vision and audio towers (loaded by transformers' AutoModel, not `make_layers`).
   * Read from vLLM's gemma4.py / gemma4_mm.py; not measured on hardware.
   */
  readonly gpuResidentBytes: number;
  /**
   * vLLM KV cache per token of context, BF16: full-attention layers that own a KV cache (layers past
   * `num_hidden_layers − num_kv_shared_layers` share one and allocate none) × K and V × kv heads × head_dim 512
   * × 2 bytes. The sliding-window layers add a bounded amount per sequence: `slidingKvBytes`.
   */
  readonly kvBytesPerToken: number;
  /** KV of the sliding-window layers (window 512 + a batch of tokens), whatever the context length. */
  readonly slidingKvBytes: number;
  /** The smaller variant to suggest when this one does not fit. */
  readonly fallback: string | null;
  readonly gguf: GgufSource;
  /** Google's quantisation-aware-trained Q4_0 GGUF: a documented alternative through ATOMR_INFER_GEMMA_GGUF. */
  readonly qatGguf?: GgufFile;
}

const GIB = 1024 ** 3;

export const GEMMA_VARIANTS = [
  {
    id: 'google/gemma-4-E2B',
    instructionTuned: false,
    gated: false, // collection-level "gating":false (no per-repo API copy found)
    // Not found for the base repo; same architecture and dtype as E2B-it (the E4B base/-it pair are byte-equal
    // in size), so E2B-it's 10,246,621,918 B. Online the Hub's own figure replaces it.
    safetensorsBytes: 10_246_621_918,
    // PLE ≈ 4.4 GiB (262,144 × 35 × 256 × 2 B) + towers 951,000,000 B (a third-party vLLM launch script).
    gpuResidentBytes: Math.round(4.4 * GIB) + 951_000_000,
    // 3 full-attention layers of 15 that own KV (4, 9, 14) × 2 × 1 kv head × 512 × 2 B = 6,144 B/token.
    kvBytesPerToken: 6_144,
    slidingKvBytes: Math.round(0.1 * GIB), // 12 sliding layers × 1 KiB/token × (511 + batched tokens), rounded up
    fallback: null,
    gguf: {
      // Base variants: ggml-org publishes -it conversions only; unsloth's repo is the most used base GGUF.
      repo: 'unsloth/gemma-4-E2B-GGUF',
      // Base Q4_K_M bytes not found; unsloth's E2B-it Q4_K_M is 3,106,738,272 B (pin @ 0314792d), same tensors.
      expectedBytes: 3_106_738_272,
    },
  },
  {
    id: 'google/gemma-4-E2B-it',
    instructionTuned: true,
    gated: false, // HF API "private=false and gated=false on 2026-05-31" (pin of @905e84b5)
    // model.safetensors 10,246,621,918 B, sha256 2db5482b… (pin of @905e84b5; the ≈10 GB the Hub shows).
    safetensorsBytes: 10_246_621_918,
    gpuResidentBytes: Math.round(4.4 * GIB) + 951_000_000,
    kvBytesPerToken: 6_144,
    slidingKvBytes: Math.round(0.1 * GIB),
    fallback: null,
    gguf: {
      // llama.cpp's own conversions. Whether this repo still has a Q4_K_M is disputed (one pin lists only
      // Q4_0/Q8_0/BF16): the chain falls back to Q4_0 (2,841,481,184 B @ b4243c15). Expected: the Q4_K_M size
      // class, unsloth's E2B-it Q4_K_M 3,106,738,272 B — the larger of the two.
      repo: 'ggml-org/gemma-4-E2B-it-GGUF',
      expectedBytes: 3_106_738_272,
    },
    qatGguf: {
      // google/gemma-4-E2B-it-qat-q4_0-gguf @ 675cff42: 3,349,516,256 B, sha256 fa401b55… (another catalog:
      // 3,349,514,112 B, 2,144 B less: a metadata re-upload).
      repo: 'google/gemma-4-E2B-it-qat-q4_0-gguf',
      file: 'gemma-4-E2B_q4_0-it.gguf',
      bytes: 3_349_516_256,
    },
  },
  {
    id: 'google/gemma-4-E4B',
    instructionTuned: false,
    gated: false, // collection-level "gating":false
    // model.safetensors 15,992,595,884 B (test fixture pinning @7aa32e68; sha256 43fb96ce…).
    safetensorsBytes: 15_992_595_884,
    // PLE ≈ 5.3 GiB (262,144 × 42 × 256 × 2 B) + towers ≈ 951,000,000 B (as E2B; same encoders).
    gpuResidentBytes: Math.round(5.3 * GIB) + 951_000_000,
    // 4 full-attention layers of 24 that own KV (5, 11, 17, 23) × 2 × 2 kv heads × 512 × 2 B = 16,384 B/token.
    kvBytesPerToken: 16_384,
    slidingKvBytes: Math.round(0.2 * GIB), // 20 sliding layers × 2 KiB/token × (511 + batched tokens), rounded up
    fallback: 'google/gemma-4-E2B',
    gguf: {
      repo: 'unsloth/gemma-4-E4B-GGUF',
      // Base bytes not found; unsloth's E4B-it Q4_K_M is 4,977,171,584 B (pin @ bfc15c38), same tensors.
      expectedBytes: 4_977_171_584,
    },
  },
  {
    id: 'google/gemma-4-E4B-it',
    instructionTuned: true,
    gated: false, // collection-level "gating":false; the Hub's answer wins online
    // model.safetensors 15,992,595,884 B, sha256 cfbd3d2f… (model-download presets; an `ls -l` of the HF cache).
    safetensorsBytes: 15_992_595_884,
    gpuResidentBytes: Math.round(5.3 * GIB) + 951_000_000,
    kvBytesPerToken: 16_384,
    slidingKvBytes: Math.round(0.2 * GIB),
    fallback: 'google/gemma-4-E2B-it',
    gguf: {
      // gemma-4-E4B-it-Q4_K_M.gguf 5,335,289,824 B, sha256 90ce9812… @ 2714b551 (Q4_0: 4,590,807,392 B @ b8093469).
      repo: 'ggml-org/gemma-4-E4B-it-GGUF',
      expectedBytes: 5_335_289_824,
    },
    qatGguf: {
      // google/gemma-4-E4B-it-qat-q4_0-gguf: 5,154,941,280 B, sha256 676c3507… (another catalog: 5,154,939,136 B).
      repo: 'google/gemma-4-E4B-it-qat-q4_0-gguf',
      file: 'gemma-4-E4B_q4_0-it.gguf',
      bytes: 5_154_941_280,
    },
  },
] as const satisfies readonly GemmaVariant[];

export type VariantId = (typeof GEMMA_VARIANTS)[number]['id'];

export const VARIANT_IDS: readonly VariantId[] = GEMMA_VARIANTS.map((v) => v.id);

export const DEFAULT_MODEL: VariantId = 'google/gemma-4-E4B-it';

export function isVariantId(value: string): value is VariantId {
  return (VARIANT_IDS as readonly string[]).includes(value);
}

export function getVariant(id: VariantId): GemmaVariant {
  const variant = GEMMA_VARIANTS.find((v) => v.id === id);
  if (!variant) throw new Error(`unreachable: ${id} is a VariantId but not in the catalog`);
  return variant;
}

/** The supported id closest to `input` (case-insensitive edit distance), to suggest on a typo. */
export function closestVariantId(input: string): VariantId {
  const needle = input.trim().toLowerCase();
  let best: VariantId = DEFAULT_MODEL;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const id of VARIANT_IDS) {
    const lowered = id.toLowerCase();
    // Users often omit the org: compare against both forms and keep the better. On a tie, an id that
    // contains what was typed wins ("E4B-it" is as far from gemma-4-E2B-it as from gemma-4-E4B-it).
    const distance =
      Math.min(editDistance(needle, lowered), editDistance(needle, lowered.replace(/^google\//, ''))) -
      (needle !== '' && lowered.includes(needle) ? 0.5 : 0);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = id;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
