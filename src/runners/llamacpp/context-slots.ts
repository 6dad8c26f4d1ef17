import type { LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { RuntimeFailure } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';
import { DecodeBatcher } from './batching.js';
import type { GgufFacts } from './gguf/preflight.js';
import { SequencePool } from './sequence-pool.js';
import { DEFAULT_CONTEXT_CAP, type LlamaCppSettings } from './settings.js';

/** A context and its sequences: one slot per parallel request. */
export interface ContextSlots {
  context: LlamaContext;
  pool: SequencePool<LlamaContextSequence>;
  /** With several sequences: builds their batches (batching.ts); undefined for one sequence (chat). */
  batcher: DecodeBatcher | undefined;
}

/**
 * Creates the context with `settings.sequences` slots (1 for chat, `--parallel` for serve). Several slots get the
 * batch-building strategy and a pool that clears a finished slot off the next request's path; one slot gets
 * neither (nothing to batch, and chat's next turn reuses the KV cache of the last).
 */
export async function createContextSlots(
  model: LlamaModel,
  facts: GgufFacts,
  settings: LlamaCppSettings,
  threads: number,
): Promise<ContextSlots> {
  const contextSize =
    settings.contextSize ??
    Math.min(facts.contextLength > 0 ? facts.contextLength : DEFAULT_CONTEXT_CAP, DEFAULT_CONTEXT_CAP);
  const sequences = settings.sequences ?? 1;
  const batcher = sequences > 1 ? new DecodeBatcher() : undefined;
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize,
      sequences,
      threads,
      ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
      // Several slots: the batch strategy, and a full-size sliding-window cache. With a windowed one (node-llama-cpp's
      // default for Gemma's sliding-window layers) every new answer takes a checkpoint after its first token under
      // the context lock, which the decode loop holds while any other sequence decodes: a request arriving while
      // others stream would show its first token only after they all end. The full cache needs no checkpoints
      // (and reuses prompt prefixes without them), at the cost of the sliding layers' KV for the whole context.
      ...(batcher ? { batching: batcher.options(), swaFullCache: true } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RuntimeFailure(
      `llama.cpp could not create a ${contextSize}-token context: ${redactSecrets(message).split('\n')[0]}`,
      {
        hint: 'Lower the context size (--ctx / ATOMR_INFER_GEMMA_MAX_LEN) or the number of sequences.',
        cause: error,
      },
    );
  }
  batcher?.attach(context);
  // Created in order, so slot i is sequence id i: the pool's order is the id order batching.ts relies on.
  const slots = Array.from({ length: sequences }, () => context.getSequence());
  const pool = new SequencePool(
    slots,
    batcher
      ? {
          holdsState: (sequence) => sequence.nextTokenIndex > 0,
          clear: (sequence) => batcher.clearSlot(sequence),
        }
      : undefined,
  );
  return { context, pool, batcher };
}
