/**
 * Retry timing shared by every HTTP client here (the Hub client, the remote runner): which statuses are
 * transient, the server's `Retry-After`, jittered exponential backoff, and an abortable sleep. Each caller keeps
 * its own policy and its own idea of which network errors are worth another try.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date); `undefined` when absent or unparsable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Delay before retry number `retry` (1 = the first). Jitter on the upper half keeps clients out of lockstep. */
export function jitteredBackoff(
  retry: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `RateLimit` header (IETF draft-ietf-httpapi-ratelimit-headers-09), as the Hub sends it on a 429. */
export interface RateLimitInfo {
  /** Which limit: `api`, `resolvers`, `pages`… */
  resource: string;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * Parses `RateLimit: "api";r=0;t=55` with huggingface_hub's pattern (utils/_http.py parse_ratelimit_headers);
 * `undefined` when absent or of another shape.
 */
export function parseRateLimit(value: string | null): RateLimitInfo | undefined {
  if (value === null) return undefined;
  const match = /"(\w+)"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)/.exec(value);
  if (!match) return undefined;
  return { resource: match[1] ?? '', remaining: Number(match[2]), resetSeconds: Number(match[3]) };
}
