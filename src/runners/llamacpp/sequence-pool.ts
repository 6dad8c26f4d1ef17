import { InterruptedError } from '../../core/errors.js';

/**
 * What the pool needs to know about a slot's state (a sequence's KV cache), for `serve`'s parallel slots.
 * node-llama-cpp erases a sequence's old tokens under the context lock, which its decode loop holds for as long as
 * any sequence is decoding: an erase asked for while others generate waits for all of them to finish.
 */
export interface SlotStatePolicy<S> {
  /** Whether the slot still holds an earlier request's tokens. */
  holdsState(slot: S): boolean;
  /** Erases them (resolves once done; may wait for the decode loop). */
  clear(slot: S): Promise<void>;
}

/**
 * Hands out the context's sequences one request at a time. With `sequences: 1` (chat) requests queue; with N
 * (`serve`) up to N decode together in one context, batched by node-llama-cpp. Waiting honours the request's
 * abort signal.
 *
 * Slots go out lowest first (their order in `items`, which is their sequence id order), so the active sequence
 * ids stay consecutive, which is what lets llama.cpp decode them in one ubatch (see batching.ts). With a
 * `policy`, a slot released while others are still generating is cleared at once, off the next request's path
 * (the clear waits for the decode loop, the request would have too); a slot released when nothing else runs keeps
 * its tokens, and is handed out first while nothing runs, so a client's next turn reuses its prompt prefix and an
 * erase, if any, finds the loop idle.
 */
export class SequencePool<S> {
  private readonly order: Map<S, number>;
  private readonly free: S[];
  private readonly waiters: Array<{ resolve: (item: S) => void; reject: (error: unknown) => void }> = [];
  private inUse = 0;

  constructor(
    items: readonly S[],
    private readonly policy?: SlotStatePolicy<S>,
  ) {
    this.order = new Map(items.map((item, index) => [item, index]));
    this.free = [...items];
  }

  /** Slots handed out and not yet released. */
  get busy(): number {
    return this.inUse;
  }

  acquire(signal?: AbortSignal): Promise<S> {
    const item = this.take();
    if (item !== undefined) return Promise.resolve(item);
    if (signal?.aborted)
      return Promise.reject(new InterruptedError('request aborted while waiting for a slot'));
    return new Promise<S>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new InterruptedError('request aborted while waiting for a slot'));
        },
        { once: true },
      );
    });
  }

  release(item: S): void {
    this.inUse--;
    const policy = this.policy;
    if (policy && this.inUse > 0 && policy.holdsState(item)) {
      void policy
        .clear(item)
        .catch(() => undefined)
        .then(() => this.giveBack(item));
      return;
    }
    this.giveBack(item);
  }

  /** Fails every queued request (the runner is being rebuilt or disposed). */
  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private take(): S | undefined {
    if (this.free.length === 0) return undefined;
    const holding =
      this.policy && this.inUse === 0 ? this.free.findIndex((slot) => this.policy?.holdsState(slot)) : -1;
    const [item] = this.free.splice(Math.max(0, holding), 1);
    this.inUse++;
    return item;
  }

  private giveBack(item: S): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.inUse++;
      waiter.resolve(item);
      return;
    }
    const rank = this.order.get(item) ?? 0;
    const at = this.free.findIndex((other) => (this.order.get(other) ?? 0) > rank);
    this.free.splice(at < 0 ? this.free.length : at, 0, item);
  }
}
