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

/**
 * An error and the errors behind it (`cause`), outermost first, at most five deep: fetch wraps what went wrong
 * (`TypeError: fetch failed` → a socket or DNS error → …), so every question about a failure walks this chain.
 */
export function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; chain.length < 5 && current instanceof Error; current = current.cause) {
    chain.push(current);
  }
  return chain;
}

/** The errno-style code of a network failure (the first one on the cause chain), if there is one. */
export function networkErrorCode(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
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
  return causeChain(error).some(
    (current) =>
      (current instanceof TypeError && /fetch failed|terminated|network/i.test(current.message)) ||
      /terminated|other side closed|socket hang up/i.test(current.message),
  );
}

/** A short, secret-free description of a network error (the innermost cause's code or message). */
export function describeNetworkError(error: unknown): string {
  const innermost = causeChain(error).at(-1);
  if (!innermost) return String(error);
  const code = (innermost as NodeJS.ErrnoException).code;
  return code ? `${code}${innermost.message ? ` (${innermost.message})` : ''}` : innermost.message;
}
