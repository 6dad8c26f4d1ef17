import { describe, expect, it } from 'vitest';
import {
  describeNetworkError,
  isTransientNetworkError,
  networkErrorCode,
} from '../../src/core/network-errors.js';

/** The one network-error classifier: what the Hub client and the remote runner retry, as fetch reports it. */
function fetchFailure(code: string, message = 'connect failed'): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('network errors', () => {
  it('finds the code fetch wraps in its cause', () => {
    expect(networkErrorCode(fetchFailure('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(describeNetworkError(fetchFailure('ECONNRESET', 'socket reset'))).toBe(
      'ECONNRESET (socket reset)',
    );
  });

  it('retries refused, reset and timed-out connections for every client', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'EAI_AGAIN']) {
      expect(isTransientNetworkError(fetchFailure(code)), code).toBe(true);
    }
  });

  it('an unresolved host name is retried only where the name cannot be a typo (the Hub), not for the remote runner', () => {
    expect(isTransientNetworkError(fetchFailure('ENOTFOUND'))).toBe(false);
    expect(isTransientNetworkError(fetchFailure('ENOTFOUND'), { retryUnresolvedHost: true })).toBe(true);
  });

  it('never retries an abort, a TLS or protocol error, or something that is not an Error', () => {
    expect(isTransientNetworkError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(false);
    expect(isTransientNetworkError(fetchFailure('CERT_HAS_EXPIRED'))).toBe(false);
    expect(isTransientNetworkError('ECONNRESET')).toBe(false);
  });

  it('a connection cut mid-body that undici reports only in words is retried', () => {
    expect(isTransientNetworkError(new TypeError('terminated'))).toBe(true);
    expect(isTransientNetworkError(new Error('other side closed'))).toBe(true);
  });
});
