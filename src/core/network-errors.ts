/**
 * The one network-error classifier for every HTTP client here (the Hub client, the remote runner): which
 * failures are worth another try, and a short secret-free description. Node's fetch wraps the socket error in
 * `TypeError: fetch failed` → `cause`, so both walk the cause chain.
 */

/** Connection-level failures that another try may not meet: the peer reset, refused or timed out. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export interface TransientOptions {
  /**
   * Retry a host name that did not resolve (ENOTFOUND). The Hub client does: a resolver hiccup on a laptop that
   * just woke up is common and the Hub's name is not a typo. The remote runner does not: a typo in the endpoint
   * the user gave stays a typo, and saying so at once beats retrying it.
   */
  retryUnresolvedHost?: boolean;
}

/** The errno-style code of a network failure (the first one on the cause chain), if there is one. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** True for a failure worth another try; an abort never is. */
export function isTransientNetworkError(error: unknown, options: TransientOptions = {}): boolean {
  if (!(error instanceof Error) || error.name === 'AbortError') return false;
  const code = networkErrorCode(error);
  if (code !== undefined) {
    return TRANSIENT_CODES.has(code) || (code === 'ENOTFOUND' && options.retryUnresolvedHost === true);
  }
  // No code anywhere: undici reports a connection cut mid-body only in words.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
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
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    description = code ? `${code}${current.message ? ` (${current.message})` : ''}` : current.message;
    current = current.cause;
  }
  return description;
}
