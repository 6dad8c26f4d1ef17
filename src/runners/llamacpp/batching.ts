import type {
  BatchingOptions,
  BatchItem,
  LlamaContext,
  LlamaContextSequence,
  PrioritizedBatchItem,
} from 'node-llama-cpp';

/**
 * How `serve`'s parallel sequences are batched: node-llama-cpp's public batching hook
 * (`createContext({ batching: { itemPrioritizationStrategy } })`), used so that llama.cpp decodes every active
 * sequence's next token in one batch, in one ubatch. docs/serve.md has the measurements behind each rule.
 *
 * 1. **Wait for every active sequence.** node-llama-cpp's decode loop runs as long as any decode is queued and
 *    takes whatever is queued when it builds the next batch. After a batch, each sequence re-queues its next token
 *    a few microtasks after its logits were sampled, so the loop usually finds 3 of 4 (or 7 of 8) sequences and
 *    one lags a batch behind for the whole answer. The strategy answers "nothing yet" (an empty list, which the
 *    hook's contract allows) while fewer items are queued than sequences are generating; the loop turns again a
 *    few microtasks later, when the laggard has queued. A bound on those empty turns keeps a sequence that is not
 *    coming (it just finished, or it waits on the tokenizer) from stalling the others. The dispatch schedule that
 *    starts the loop is left at node-llama-cpp's default: measured, the loop starts about once per burst of
 *    traffic and never again while it runs, so that is not where batches are built.
 * 2. **Ascending sequence ids.** node-llama-cpp creates contexts with `kv_unified = false`; llama.cpp then puts
 *    only consecutive, increasing sequence ids into one ubatch (`split_equal` in src/llama-batch.cpp), so a batch in
 *    arrival order is split into several ubatches — a 4-token batch cost 30–37 ms instead of 22 ms. Items are
 *    sorted by sequence id; with sequences handed out lowest id first (SequencePool), the active ids are
 *    consecutive too.
 * 3. **Shares of the batch as node-llama-cpp's `maximumParallelism`:** every item gets an equal share, and what
 *    a short item leaves goes to the long ones, so a new prompt is processed alongside the running answers
 *    instead of after them.
 *
 * 4. **New requests get the context lock between two batches.** Erasing a reused slot's old tokens (and, with
 *    Gemma's windowed sliding-layer cache, the checkpoint after a first token) needs node-llama-cpp's context
 *    lock, which its decode loop holds for as long as any sequence queues tokens: under load a new request waited
 *    for every running answer to end. patches/node-llama-cpp-yield-context-lock.mjs (postinstall, six lines,
 *    inert unless the flag below is set) lets the loop hand the lock over while a request is admitted (`admit`).
 *
 * A `BatchItem` does not carry its sequence id (the hook's public type has tokens, logits and priority only).
 * The id is read from the context's queue, where node-llama-cpp keeps each item's `tokens` array by reference
 * (`sequenceIdsOf`); should a node-llama-cpp upgrade change that, the items keep their arrival order (rule 1 and
 * 3 still hold) and test/runners/llamacpp/batching.test.ts fails, so the change cannot go unnoticed.
 */

/** The flag patches/node-llama-cpp-yield-context-lock.mjs adds to node-llama-cpp's decode loop. */
const YIELD_FLAG = '_yieldLockRequested';

/** How many empty turns one batch may wait for a lagging sequence (measured: ~3 are needed). */
export const MAX_EMPTY_TURNS = 32;

/** Orders and shares batch items; `active()` is how many sequences are generating now. */
export class DecodeBatcher {
  private context: LlamaContext | undefined;
  private emptyTurns = 0;
  private generating = 0;
  private lockWaiters = 0;
  /** Counters for the bench and tests: batches built, and empty turns spent waiting for a sequence. */
  readonly stats = { batches: 0, emptyTurns: 0, unordered: 0 };

  /** The `batching` options for createContext. */
  options(): BatchingOptions {
    return { itemPrioritizationStrategy: (input) => this.prioritize(input.items, input.size) };
  }

  attach(context: LlamaContext): void {
    this.context = context;
  }

  /**
   * Whether the installed node-llama-cpp carries the decode-loop patch (postinstall): then a request being
   * admitted, or a slot being cleared, gets the context lock between two batches instead of after every
   * running answer.
   */
  get yieldsContextLock(): boolean {
    return decodeLoopYields(this.context);
  }

  /**
   * A request is being admitted: until it has its first token (its erase of a reused slot's old tokens and its
   * first-token checkpoint both need the context lock), the patched decode loop hands the lock over between
   * batches. Returns the function that ends the admission (idempotent).
   */
  admit(): () => void {
    this.lockWanted(+1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.lockWanted(-1);
    };
  }

  /** Erases a finished slot's tokens, the lock handed over between batches meanwhile (see admit). */
  async clearSlot(sequence: LlamaContextSequence): Promise<void> {
    this.lockWanted(+1);
    try {
      await sequence.clearHistory();
    } finally {
      this.lockWanted(-1);
    }
  }

  private lockWanted(change: 1 | -1): void {
    this.lockWaiters = Math.max(0, this.lockWaiters + change);
    const context = this.context as unknown as Record<string, unknown> | undefined;
    if (context) context[YIELD_FLAG] = this.lockWaiters > 0;
  }

  /** A sequence starts (or stops) generating: the number the strategy waits for. */
  generationStarted(): void {
    this.generating++;
  }

  generationEnded(): void {
    this.generating = Math.max(0, this.generating - 1);
  }

  prioritize(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
    if (items.length < this.generating && this.emptyTurns < MAX_EMPTY_TURNS) {
      this.emptyTurns++;
      this.stats.emptyTurns++;
      return [];
    }
    this.emptyTurns = 0;
    this.stats.batches++;
    return shareBatch(this.inSequenceOrder(items), size);
  }

  private inSequenceOrder(items: readonly BatchItem[]): readonly BatchItem[] {
    if (items.length < 2) return items;
    const ids = sequenceIdsOf(this.context);
    const keyed = items.map((item) => ({ item, id: ids?.get(item.tokens) }));
    if (keyed.some((entry) => entry.id === undefined)) {
      this.stats.unordered++;
      return items;
    }
    return keyed.sort((a, b) => (a.id as number) - (b.id as number)).map((entry) => entry.item);
  }
}

/** Whether node-llama-cpp's decode loop carries the lock-yield patch; given a context, or LlamaContext itself. */
export function decodeLoopYields(context: object | undefined): boolean {
  const loop = (context as { dispatchPendingBatch?: unknown } | undefined)?.dispatchPendingBatch;
  return typeof loop === 'function' && loop.toString().includes(YIELD_FLAG);
}

/**
 * Each queued item's sequence id, keyed by its `tokens` array (the reference node-llama-cpp hands the strategy).
 * Reads node-llama-cpp's queue (`_queuedDecodes`, internal: see the note at the top); undefined when its shape
 * is not the one expected.
 */
export function sequenceIdsOf(context: LlamaContext | undefined): Map<unknown, number> | undefined {
  const queue = (context as unknown as { _queuedDecodes?: unknown } | undefined)?._queuedDecodes;
  if (!Array.isArray(queue)) return undefined;
  const ids = new Map<unknown, number>();
  for (const entry of queue as Array<{ tokens?: unknown; sequenceId?: unknown }>) {
    if (typeof entry?.sequenceId !== 'number' || !Array.isArray(entry.tokens)) return undefined;
    ids.set(entry.tokens, entry.sequenceId);
  }
  return ids;
}

/**
 * Shares `size` batch slots among `items`, in their order: an equal share each, then what short items leave to
 * the long ones in order (node-llama-cpp's `maximumParallelism` rule). Every item gets at least one slot while
 * slots remain, so a decode step is never pushed out by a long prompt.
 */
export function shareBatch(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  if (items.length === 0 || size <= 0) return [];
  const share = Math.max(1, Math.floor(size / items.length));
  let left = size;
  const out: PrioritizedBatchItem[] = [];
  for (const item of items) {
    if (left <= 0) break;
    const processAmount = Math.min(item.tokens.length, share, left);
    out.push({ item, processAmount });
    left -= processAmount;
  }
  for (const entry of out) {
    if (left <= 0) break;
    const more = Math.min(entry.item.tokens.length - entry.processAmount, left);
    entry.processAmount += more;
    left -= more;
  }
  return out;
}
