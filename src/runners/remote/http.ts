import { ModelError, RuntimeFailure, type AtomrError } from '../../core/errors.js';
import {
  TIMEOUT_TRIES,
  fetchWithHeadersTimeout,
  formatSeconds,
  hostOf,
  isTimeoutError,
  readBodyText,
} from '../../core/http-timeouts.js';
import { redactSecrets } from '../../core/secrets.js';
import { DEFAULT_API_KEY_ENVS, type RemoteSettings } from './settings.js';
import { RETRYABLE_STATUSES, jitteredBackoff, parseRetryAfter, sleep } from '../../core/retry.js';
import { isTransientNetworkError, networkErrorCode } from '../../core/network-errors.js';

/**
 * HTTP to an OpenAI-compatible endpoint: one POST with retries (429, 5xx, dropped connections; Retry-After
 * honoured) and every failure turned into an error a user can act on. Retries happen only before the
 * response body is read, so a retried request never repeats text already shown.
 */

export interface RemoteRequest {
  settings: RemoteSettings;
  apiKey: string | undefined;
  /** Relative to the endpoint, e.g. `/chat/completions`. */
  path: string;
  method: 'GET' | 'POST';
  body?: unknown;
  signal: AbortSignal;
  /** Called before each retry (logs, tests). */
  onRetry?: (info: { retry: number; delayMs: number; reason: string }) => void;
}

/** Thrown by `send` when the caller's signal aborted: not an error to report. */
export class RemoteAborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'RemoteAborted';
  }
}

/**
 * Sends the request, retrying transient failures; resolves to a 2xx response whose body is unread. A timeout
 * (no response headers within timeouts.connectMs) is retried at most once (TIMEOUT_TRIES), whatever maxRetries
 * says: a server that said nothing for the whole timeout rarely answers the next try.
 */
export async function send(request: RemoteRequest): Promise<Response> {
  const { retries } = request.settings;
  let timeouts = 0;
  for (let attempt = 0; ; attempt++) {
    let outcome: Failure;
    try {
      const response = await fetchOnce(request);
      if (response.ok) return response;
      outcome = await failureFromResponse(response, request);
    } catch (error) {
      if (request.signal.aborted) throw new RemoteAborted();
      if (isTimeoutError(error)) {
        timeouts++;
        outcome = {
          error: new RuntimeFailure(
            `${request.settings.endpoint} did not answer within ${formatSeconds(request.settings.timeouts.connectMs)} (${timeouts} ${timeouts === 1 ? 'try' : 'tries'})`,
            {
              code: 'remote-timeout',
              hint: 'check that the endpoint is the API base URL of a running server; on a slow link raise ATOMR_INFER_REMOTE_TIMEOUT (seconds) or settings.timeouts.connectMs',
            },
          ),
          retryable: timeouts < TIMEOUT_TRIES,
        };
      } else {
        outcome = { error: unreachable(request.settings, error), retryable: isTransientNetworkError(error) };
      }
    }
    if (!outcome.retryable || attempt >= retries.maxRetries) throw outcome.error;
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > retries.maxRetryAfterMs) {
      throw new RuntimeFailure(
        `${outcome.error.message}; it asked to retry after ${Math.ceil(outcome.retryAfterMs / 1000)} s`,
        {
          code: outcome.error.code,
          hint: 'try again later, or lower settings.limits to stay under its limits',
        },
      );
    }
    const delayMs = outcome.retryAfterMs ?? jitteredBackoff(attempt + 1, retries);
    request.onRetry?.({ retry: attempt + 1, delayMs, reason: outcome.error.message });
    try {
      await sleep(delayMs, request.signal);
    } catch {
      throw new RemoteAborted();
    }
  }
}

interface Failure {
  error: AtomrError;
  retryAfterMs?: number;
  retryable: boolean;
}

/** One fetch; the headers timeout covers connecting and waiting for the response headers. */
function fetchOnce(request: RemoteRequest): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, text/event-stream' };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  return fetchWithHeadersTimeout(
    `${request.settings.endpoint}${request.path}`,
    {
      method: request.method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
    },
    { timeoutMs: request.settings.timeouts.connectMs, signal: request.signal },
  );
}

/**
 * A small body (an error answer, the model list) as text, capped in size, with the headers timeout as its idle
 * timeout: such a body comes with the headers, unlike a generated answer, so a server that sends headers and then
 * stalls (or floods) cannot hang or exhaust us.
 */
export function readSmallBody(
  response: Response,
  settings: RemoteSettings,
  maxBytes = 1024 * 1024,
): ReturnType<typeof readBodyText> {
  return readBodyText(response, {
    idleMs: settings.timeouts.connectMs,
    maxBytes,
    host: hostOf(response.url || settings.endpoint),
  });
}

async function failureFromResponse(response: Response, request: RemoteRequest): Promise<Failure> {
  const { settings } = request;
  const detail = await errorDetail(response, settings);
  const status = response.status;
  const url = `${settings.endpoint}${request.path}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const suffix = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return { error: authFailure(settings, status, detail), retryable: false };
  }
  if (status === 404 && /model/i.test(detail)) {
    return {
      error: new ModelError(`model "${settings.model}" is not served by ${settings.endpoint}${suffix}`, {
        code: 'remote-model-not-found',
        hint: `list what it serves: GET ${settings.endpoint}/models`,
      }),
      retryable: false,
    };
  }
  if (status === 404) {
    return {
      error: new RuntimeFailure(`${url} was not found (404)`, {
        code: 'remote-not-found',
        hint: 'check the endpoint: it is the API base URL, usually ending in /v1',
      }),
      retryable: false,
    };
  }
  if (status === 429) {
    const error = new RuntimeFailure(`${settings.endpoint} is rate limiting requests (429)${suffix}`, {
      code: 'remote-rate-limited',
      hint: 'lower settings.limits (requestsPerMinute, tokensPerMinute, maxConcurrent) or try again later',
    });
    return retryAfterMs === undefined ? { error, retryable: true } : { error, retryAfterMs, retryable: true };
  }
  if (status >= 500) {
    const error = new RuntimeFailure(`${settings.endpoint} failed with HTTP ${status}${suffix}`, {
      code: 'remote-server-error',
      hint: 'the server reported an internal error; check its logs',
    });
    const retryable = RETRYABLE_STATUSES.has(status);
    return retryAfterMs === undefined ? { error, retryable } : { error, retryAfterMs, retryable };
  }
  return {
    error: new RuntimeFailure(`${url} rejected the request (HTTP ${status})${suffix}`, {
      code: 'remote-rejected',
    }),
    retryable: RETRYABLE_STATUSES.has(status),
  };
}

function authFailure(settings: RemoteSettings, status: number, detail: string): RuntimeFailure {
  const variable = settings.apiKeyEnv ?? DEFAULT_API_KEY_ENVS[0];
  const message =
    settings.apiKeySource === undefined
      ? `${settings.endpoint} requires an API key (HTTP ${status}) and none was sent`
      : `${settings.endpoint} rejected the API key from ${settings.apiKeySource} (HTTP ${status})${detail ? `: ${detail}` : ''}`;
  return new RuntimeFailure(message, {
    code: 'remote-auth',
    hint: `set ${variable} to a valid key for this endpoint`,
  });
}

function unreachable(settings: RemoteSettings, error: unknown): RuntimeFailure {
  const code = networkErrorCode(error);
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new RuntimeFailure(`cannot reach ${settings.endpoint} (${redactSecrets(reason)})`, {
    code: 'remote-unreachable',
    hint: 'is the server running and the endpoint right? (e.g. http://127.0.0.1:8080/v1)',
    cause: error,
  });
}

/** The server's own error message, shortened and redacted: OpenAI `{error:{message}}`, vLLM/FastAPI `detail`. */
async function errorDetail(response: Response, settings: RemoteSettings): Promise<string> {
  let text: string;
  try {
    text = (await readSmallBody(response, settings, 4096)).text.slice(0, 4096);
  } catch {
    return '';
  }
  let message = text;
  try {
    const json = JSON.parse(text) as {
      error?: { message?: unknown } | string;
      message?: unknown;
      detail?: unknown;
    };
    const candidate =
      typeof json.error === 'string' ? json.error : (json.error?.message ?? json.message ?? json.detail);
    if (typeof candidate === 'string') message = candidate;
  } catch {
    // Not JSON: the text itself.
  }
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return redactSecrets(oneLine.length > 300 ? `${oneLine.slice(0, 297)}...` : oneLine);
}
