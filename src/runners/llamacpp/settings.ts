import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

/**
 * The llama.cpp runner's settings (RunnerSpec.settings for runtime `llama-cpp`). Validated here so a typo in a
 * deployment file or a bad flag value fails with one line naming the key and what is accepted.
 */
const settingsSchema = z
  .object({
    /** Context window in tokens. Default: the model's training length, capped at DEFAULT_CONTEXT_CAP. */
    contextSize: z.number().int().min(64).max(1_048_576).optional(),
    /** CPU threads for decoding. Default: defaultThreadCount() (see threads.ts). */
    threads: z.number().int().min(1).max(256).optional(),
    /** Layers offloaded to the GPU: `auto` (fit what the VRAM holds), `max`, or a number. Default `auto`. */
    gpuLayers: z.union([z.literal('auto'), z.literal('max'), z.number().int().min(0)]).optional(),
    /** Which llama.cpp backend: `auto` detects; `false` forces CPU. Default `auto`. */
    gpu: z.union([z.enum(['auto', 'cuda', 'metal', 'vulkan']), z.literal(false)]).optional(),
    /** Chat (instruction-tuned) or plain completion (base). Default: catalog entry, else the file's template. */
    instructionTuned: z.boolean().optional(),
    /** Prompt-processing batch size in tokens. Default: node-llama-cpp's (the context size, max 512). */
    batchSize: z.number().int().min(1).max(65_536).optional(),
    /** Sequences decoded together in one context (for `serve`). Default 1. */
    sequences: z.number().int().min(1).max(64).optional(),
  })
  .strict();

export type LlamaCppSettings = z.infer<typeof settingsSchema>;

/** The context size used when neither the settings nor the caller say: long enough to chat, cheap to allocate. */
export const DEFAULT_CONTEXT_CAP = 8192;

const ACCEPTED: Record<string, string> = {
  contextSize: 'an integer from 64 to 1048576',
  threads: 'an integer from 1 to 256',
  gpuLayers: '"auto", "max" or a non-negative integer',
  gpu: '"auto", "cuda", "metal", "vulkan" or false',
  instructionTuned: 'true or false',
  batchSize: 'an integer from 1 to 65536',
  sequences: 'an integer from 1 to 64',
};

export function parseLlamaCppSettings(raw: Record<string, unknown>): LlamaCppSettings {
  const result = settingsSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new ConfigError(
      `llama-cpp settings: unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; accepted keys are ${Object.keys(ACCEPTED).join(', ')}`,
    );
  }
  const key = String(issue?.path[0] ?? '');
  const value = (raw as Record<string, unknown>)[key];
  throw new ConfigError(
    `llama-cpp settings: ${key}=${JSON.stringify(value)} is not valid; expected ${ACCEPTED[key] ?? 'a valid value'}`,
  );
}
