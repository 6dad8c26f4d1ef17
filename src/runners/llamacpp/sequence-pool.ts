import { InterruptedError } from '../../core/errors.js';

/**
 * Hands out the context's sequences one request at a time. With `sequences: 1` (chat) requests queue; with N
 * (`serve`) up to N decode together in one context, batched by node-llama-cpp. Waiting honours the request's
 * abort signal.
 */
export class SequencePool<S> {
  private readonly free: S[];
  private readonly waiters: Array<{ resolve: (item: S) => void; reject: (error: unknown) => void }> = [];

  constructor(items: readonly S[]) {
    this.free = [...items];
  }

  acquire(signal?: AbortSignal): Promise<S> {
    const item = this.free.pop();
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
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.free.push(item);
  }

  /** Fails every queued request (the runner is being rebuilt or disposed). */
  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
