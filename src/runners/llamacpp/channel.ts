/**
 * A one-consumer queue that turns node-llama-cpp's callbacks (pushed between decoded tokens) into an async
 * iterator. Pushing never blocks decoding; a slow consumer just finds several deltas waiting.
 */
export class Channel<T> {
  private readonly items: T[] = [];
  private waiting: ((value: IteratorResult<T>) => void) | undefined;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = undefined;
      waiter({ value: item, done: false });
    } else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiting;
    this.waiting = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** Everything pushed so far, then `done` once closed. */
  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
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
