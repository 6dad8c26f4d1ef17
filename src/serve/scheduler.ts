/**
 * Admission control for `serve`: at most `parallel` generations run on the runner at once (the llama.cpp runner
 * decodes them together as one batch; vLLM schedules them in its engine loop), up to `maxQueue` more wait in
 * FIFO order, and anything beyond that is refused at once (HTTP 429) instead of piling up unbounded.
 */

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the server is at capacity');
    this.name = 'QueueFullError';
  }
}

export class SchedulerClosedError extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'SchedulerClosedError';
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  reject: (error: unknown) => void;
}

/** How many recent durations feed the Retry-After estimate. */
const RECENT = 32;

export class Scheduler {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private closed = false;
  private readonly recentMs: number[] = [];

  constructor(
    readonly parallel: number,
    readonly maxQueue: number,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Resolves to a `release` function once a slot is free. Throws QueueFullError when the queue is full,
   * SchedulerClosedError after close(), and the signal's reason if it aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.closed) return Promise.reject(new SchedulerClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.parallel) return Promise.resolve(this.grant());
    if (this.queue.length >= this.maxQueue)
      return Promise.reject(new QueueFullError(this.retryAfterSeconds()));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index !== -1) this.queue.splice(index, 1);
        waiter.reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Refuses new work and fails everything still queued; running generations keep their slots. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.reject(new SchedulerClosedError());
  }

  /** Seconds until a slot is likely free: recent request durations × queue depth / parallel, 1–60 s. */
  retryAfterSeconds(): number {
    const average =
      this.recentMs.length === 0 ? 1000 : this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length;
    const rounds = Math.ceil((this.queue.length + 1) / this.parallel);
    return Math.min(60, Math.max(1, Math.ceil((average * rounds) / 1000)));
  }

  private grant(): () => void {
    this.running++;
    const started = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.recentMs.push(this.now() - started);
      if (this.recentMs.length > RECENT) this.recentMs.shift();
      const next = this.queue.shift();
      if (next) {
        // The slot passes straight to the next waiter: `running` stays the same.
        this.running--;
        next.grant(this.grant());
      } else {
        this.running--;
      }
    };
  }
}
