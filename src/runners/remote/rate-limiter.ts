import type { RateLimits } from '../../core/model-runner.js';

/**
 * Client-side enforcement of an endpoint's limits, so we wait our turn instead of collecting 429s:
 * requests per minute and tokens per minute over a sliding window, and a cap on requests in flight.
 * A request reserves its estimated tokens (prompt estimate + max tokens) up front and settles them to the
 * real usage when it ends, so a long answer cannot overshoot the budget by more than one request.
 */

interface WindowEntry {
  at: number;
  tokens: number;
}

export interface Permit {
  /** Frees the concurrency slot and replaces the token reservation with what was really used. Idempotent. */
  release(actualTokens?: number): void;
}

export interface RateLimiterOptions {
  /** The sliding window; a minute in production, shorter in tests. */
  windowMs?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly entries: WindowEntry[] = [];
  private inFlight = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private limits: RateLimits,
    options: RateLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** New limits apply to the next acquire (rebuildSession on a config change). */
  update(limits: RateLimits): void {
    this.limits = limits;
    this.wake();
  }

  /** Waits until the request fits every limit; rejects with the signal's reason if it aborts first. */
  async acquire(estimatedTokens: number, signal?: AbortSignal): Promise<Permit> {
    for (;;) {
      signal?.throwIfAborted();
      const waitMs = this.admissionDelay(estimatedTokens);
      if (waitMs === 0) return this.admit(estimatedTokens);
      await this.waitForChange(waitMs, signal);
    }
  }

  /** 0 when the request may start now; otherwise how long until the window may have room (∞: wait for a release). */
  private admissionDelay(tokens: number): number {
    const now = this.now();
    while (this.entries.length > 0 && this.entries[0]!.at <= now - this.windowMs) this.entries.shift();
    const { maxConcurrent, requestsPerMinute, tokensPerMinute } = this.limits;
    let wait = 0;
    if (maxConcurrent !== undefined && this.inFlight >= maxConcurrent) wait = Number.POSITIVE_INFINITY;
    if (requestsPerMinute !== undefined && this.entries.length >= requestsPerMinute) {
      const oldest = this.entries[this.entries.length - requestsPerMinute]!;
      wait = Math.max(wait, oldest.at + this.windowMs - now);
    }
    if (tokensPerMinute !== undefined && this.entries.length > 0) {
      // A request larger than the whole budget still runs alone in an empty window rather than never.
      let used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
      for (const entry of this.entries) {
        if (used + tokens <= tokensPerMinute) break;
        used -= entry.tokens;
        wait = Math.max(wait, entry.at + this.windowMs - now);
      }
    }
    return wait === 0 ? 0 : Math.max(1, wait);
  }

  private admit(tokens: number): Permit {
    const entry: WindowEntry = { at: this.now(), tokens };
    this.entries.push(entry);
    this.inFlight++;
    let released = false;
    return {
      release: (actualTokens?: number) => {
        if (released) return;
        released = true;
        if (actualTokens !== undefined) entry.tokens = actualTokens;
        this.inFlight--;
        this.wake();
      },
    };
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Sleeps until `ms` passes, a permit is released, or the signal aborts. */
  private waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.waiters.delete(wakeUp);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const wakeUp = (): void => {
        done();
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(wakeUp, ms) : undefined;
      this.waiters.add(wakeUp);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
