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

/** Network-level failures worth retrying: fetch's TypeError wrapping ECONNRESET, ECONNREFUSED, timeouts… */
export function isTransientNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'AbortError') return false;
  const codes = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EAI_AGAIN',
    'ENOTFOUND',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_CLOSED',
  ]);
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code && codes.has(code)) return true;
    if (current instanceof TypeError && /fetch failed|terminated|network/i.test(current.message)) return true;
    if (/terminated|other side closed|socket hang up/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

/** A short, secret-free description of a network error (the innermost cause's code or message). */
export function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  let description = String(error);
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    description = code ? `${code}${current.message ? ` (${current.message})` : ''}` : current.message;
    current = current.cause;
  }
  return description;
}
