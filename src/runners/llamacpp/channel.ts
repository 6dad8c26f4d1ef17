import { setImmediate } from 'node:timers';

/**
 * A one-consumer queue that turns node-llama-cpp's callbacks (pushed between decoded tokens) into an async
 * iterator. Pushing never blocks decoding; a slow consumer just finds several deltas waiting.
 *
 * The waiting consumer is woken on the next event-loop turn (setImmediate), not at once: node-llama-cpp queues
 * the next token's decode in the microtasks that follow the callback, and a consumer woken at once runs first,
 * so its work (a stdout write, an SSE frame) sits between two decodes. Woken later, it runs while the native
 * worker decodes, on a main thread that is otherwise idle (docs/llamacpp.md, "Per-token overhead").
 */
export class Channel<T> {
  private readonly items: T[] = [];
  private waiting: ((value: IteratorResult<T>) => void) | undefined;
  private wakeScheduled = false;
  private closed = false;
  private delivered = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    if (!this.delivered && this.waiting) {
      // The first piece goes out at once: after it node-llama-cpp may do slow work before the next decode (a
      // sliding-window checkpoint), which a deferred wake-up would add to the time to first token.
      this.wake();
      return;
    }
    this.scheduleWake();
  }

  close(): void {
    this.closed = true;
    this.scheduleWake();
  }

  private scheduleWake(): void {
    if (!this.waiting || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(this.wake);
  }

  private readonly wake = (): void => {
    this.wakeScheduled = false;
    const waiter = this.waiting;
    if (!waiter) return;
    this.waiting = undefined;
    if (this.items.length > 0) {
      this.delivered = true;
      waiter({ value: this.items.shift() as T, done: false });
    } else if (this.closed) waiter({ value: undefined, done: true });
    else this.waiting = waiter;
  };

  /** Everything pushed so far, then `done` once closed. */
  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      this.delivered = true;
      return Promise.resolve({ value: this.items.shift() as T, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Takes every queued item at once (so a burst of deltas becomes one chunk). */
  drain(): T[] {
    return this.items.splice(0, this.items.length);
  }
}
