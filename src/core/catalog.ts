/**
 * The Gemma 4 variant catalog: the one source of truth for ids, sizes, fallbacks and GGUF sources.
 * Types, validation and help text all derive from this list.
 */

export interface GgufSource {
  /** Hugging Face repo holding GGUF conversions of this variant. */
  readonly repo: string;
  /** Quantisation picked from the repo's files (matched case-insensitively against file names). */
  readonly quant: string;
  /** Approximate size of that GGUF file in GB (10^9 bytes), used when the Hub is unreachable. */
  readonly approxSizeGB: number;
}

export interface GemmaVariant {
  readonly id: string;
  /** Instruction-tuned (`-it`): chat template. Base: plain completion. */
  readonly instructionTuned: boolean;
  /** Smallest free VRAM (GiB) in which vLLM serves this variant with a short context. */
  readonly minVramGiB: number;
  /** Approximate download of the full-precision safetensors repo in GB (10^9 bytes). */
  readonly approxDownloadGB: number;
  /** The smaller variant to suggest when this one does not fit. */
  readonly fallback: string | null;
  readonly gguf: GgufSource;
}

export const GEMMA_VARIANTS = [
  {
    id: 'google/gemma-4-E2B',
    instructionTuned: false,
    minVramGiB: 2.5,
    approxDownloadGB: 4,
    fallback: null,
    // Base variants: ggml-org publishes -it conversions only; unsloth's repo is the most used base GGUF.
    gguf: { repo: 'unsloth/gemma-4-E2B-GGUF', quant: 'Q4_K_M', approxSizeGB: 3.2 },
  },
  {
    id: 'google/gemma-4-E2B-it',
    instructionTuned: true,
    minVramGiB: 2.5,
    approxDownloadGB: 4,
    fallback: null,
    // llama.cpp's own conversions (what `llama-server -hf ggml-org/gemma-4-E2B-it-GGUF:Q4_K_M` fetches).
    gguf: { repo: 'ggml-org/gemma-4-E2B-it-GGUF', quant: 'Q4_K_M', approxSizeGB: 3.2 },
  },
  {
    id: 'google/gemma-4-E4B',
    instructionTuned: false,
    minVramGiB: 4.5,
    approxDownloadGB: 7,
    fallback: 'google/gemma-4-E2B',
    gguf: { repo: 'unsloth/gemma-4-E4B-GGUF', quant: 'Q4_K_M', approxSizeGB: 5.3 },
  },
  {
    id: 'google/gemma-4-E4B-it',
    instructionTuned: true,
    minVramGiB: 4.5,
    approxDownloadGB: 7,
    fallback: 'google/gemma-4-E2B-it',
    gguf: { repo: 'ggml-org/gemma-4-E4B-it-GGUF', quant: 'Q4_K_M', approxSizeGB: 5.3 },
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
