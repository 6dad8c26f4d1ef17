import { ConfigError } from '../core/errors.js';
import { proxyFetchFor } from '../core/http-proxy.js';
import { timeoutFromEnv } from '../core/http-timeouts.js';
import { hfEndpoint, implicitTokenDisabled, readHfToken } from '../core/paths.js';
import { DEFAULT_HUB_TIMEOUTS, HubClient, type RetryNotice } from './hub-client.js';
import type { RetryPolicy } from './retry.js';

/**
 * The Hub client as the environment configures it, read the way huggingface_hub reads it: HF_ENDPOINT, the
 * token (HF_TOKEN, HUGGING_FACE_HUB_TOKEN, the token file) and HF_HUB_DISABLE_IMPLICIT_TOKEN, the timeouts
 * HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT, and the proxies HTTP_PROXY / HTTPS_PROXY / NO_PROXY.
 */

/** Hub timeouts in seconds, named and defaulted as huggingface_hub names them (constants.py). */
export const HUB_TIMEOUT_ENV = {
  metadata: 'HF_HUB_ETAG_TIMEOUT',
  download: 'HF_HUB_DOWNLOAD_TIMEOUT',
} as const;

export function createHubClient(
  env: NodeJS.ProcessEnv,
  options: {
    fetch?: typeof fetch;
    retry?: Partial<RetryPolicy>;
    onRetry?: (notice: RetryNotice) => void;
  } = {},
): HubClient {
  const fetchImpl = options.fetch ?? proxyFetchFor(env);
  return new HubClient({
    endpoint: checkedEndpoint(env),
    token: readHfToken(env),
    sendToken: implicitTokenDisabled(env) ? 'when-needed' : 'always',
    timeouts: {
      metadataMs: timeoutFromEnv(env, HUB_TIMEOUT_ENV.metadata, DEFAULT_HUB_TIMEOUTS.metadataMs / 1000),
      downloadMs: timeoutFromEnv(env, HUB_TIMEOUT_ENV.download, DEFAULT_HUB_TIMEOUTS.downloadMs / 1000),
    },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}

/** HF_ENDPOINT must be an http(s) URL: anything else is a one-line config error, not a TypeError from fetch. */
function checkedEndpoint(env: NodeJS.ProcessEnv): string {
  const endpoint = hfEndpoint(env);
  let protocol = '';
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ConfigError(
      `HF_ENDPOINT=${JSON.stringify(env.HF_ENDPOINT ?? endpoint)} is not valid: expected an http(s) URL (e.g. https://huggingface.co)`,
      { hint: 'set HF_ENDPOINT to the base URL of the Hub or a mirror, or unset it' },
    );
  }
  return endpoint;
}
