/**
 * Retries for transient Hub failures (429, 5xx, dropped connections) with exponential backoff and jitter.
 * `Retry-After` (seconds or an HTTP date) wins over the computed delay, capped so a hostile value cannot
 * stall a pull for hours.
 */

import { jitteredBackoff } from '../core/retry.js';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound for a server-provided Retry-After. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** The delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return jitteredBackoff(attempt, policy);
}
