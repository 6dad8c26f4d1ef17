import type { LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { RuntimeFailure } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';
import { DecodeBatcher, decodeLoopYields } from './batching.js';
import type { NodeLlamaCpp } from './engine.js';
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
 * batch-building strategy (batching.ts), and, only where node-llama-cpp lacks the lock-yield patch, a pool that
 * clears a finished slot off the next request's path; one slot gets neither (nothing to batch, and chat's next
 * turn reuses the KV cache of the last).
 */
export async function createContextSlots(
  nlc: NodeLlamaCpp,
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
  const yields = decodeLoopYields(nlc.LlamaContext.prototype);
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize,
      sequences,
      threads,
      ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
      // Several slots: the batch strategy. Without node-llama-cpp's lock-yield patch (batching.ts), also a
      // full-size sliding-window cache: with the windowed one every new answer takes a checkpoint under the context
      // lock after its first token, which the unpatched loop holds while any other sequence decodes. With the patch
      // the checkpoint goes between two batches, and the default cache (and its memory) stays.
      ...(batcher ? { batching: batcher.options() } : {}),
      ...(batcher && !yields ? { swaFullCache: true } : {}),
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
  // With the patch a reused slot keeps its tokens (a prompt sharing their prefix skips it) and is erased as
  // needed when admitted; without it, a slot released while others run is cleared at once, off the next
  // request's path.
  const pool = new SequencePool(
    slots,
    batcher && !yields
      ? {
          holdsState: (sequence) => sequence.nextTokenIndex > 0,
          clear: (sequence) => batcher.clearSlot(sequence),
        }
      : undefined,
  );
  return { context, pool, batcher };
}
