/**
 * Which connection failures the remote runner retries. The timing itself (Retry-After, jittered backoff, sleep)
 * is shared with the Hub client in src/core/retry.ts.
 */

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The errno-style code of a fetch failure (fetch wraps it in `TypeError: fetch failed` → cause). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** Connection-level failures worth another try. ENOTFOUND is not: a typo in the host name stays a typo. */
export function isTransientNetworkError(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code !== undefined && NETWORK_CODES.has(code);
}
