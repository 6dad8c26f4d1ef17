import { ConfigError } from './errors.js';
import { causeChain } from './network-errors.js';
import { DECIMAL } from './number-flag.js';

/**
 * Timeouts for every HTTP client here (the Hub client, the remote runner), in two phases, because one number
 * cannot serve both: a server that accepted the connection should send its response headers within seconds,
 * while a multi-GB body or a long answer may take an hour and is healthy as long as bytes keep coming.
 *   headers: from the request to the response headers (connect, TLS, redirects' own headers included)
 *   idle:    the longest silence while a body is read, reset by every chunk (progress-based, no total cap)
 * A server that said nothing for a whole timeout rarely answers the next try, so callers retry a timeout at
 * most once (TIMEOUT_TRIES) whatever their retry budget for refused or dropped connections.
 */

export type TimeoutPhase = 'headers' | 'idle';

/** Tries (the first included) a request gets when it times out; see above. */
export const TIMEOUT_TRIES = 2;

export class HttpTimeoutError extends Error {
  constructor(
    readonly phase: TimeoutPhase,
    readonly timeoutMs: number,
    readonly host: string,
  ) {
    super(
      phase === 'headers'
        ? `${host} did not answer within ${formatSeconds(timeoutMs)}`
        : `${host} stopped sending: nothing for ${formatSeconds(timeoutMs)}`,
    );
    this.name = 'HttpTimeoutError';
  }
}

/** `1 s`, `0.5 s`, `120 s`: how the timeouts read in messages (they are set in seconds). */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Undici's own timeouts (connect 10 s; headers and body 300 s) count as timeouts too. */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** True for our timeouts and undici's (found through `cause`, as fetch wraps them). */
export function isTimeoutError(error: unknown): boolean {
  return causeChain(error).some((current) => {
    const code = (current as NodeJS.ErrnoException).code;
    return current instanceof HttpTimeoutError || (typeof code === 'string' && UNDICI_TIMEOUTS.has(code));
  });
}

export interface HeadersTimeoutOptions {
  timeoutMs: number;
  /** The caller's signal; it also governs the body after the headers arrived. */
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch;
}

/**
 * `fetch` whose response headers must arrive within `timeoutMs` (HttpTimeoutError otherwise). Once they have,
 * the timer is gone: reading the body is bounded by `readWithIdleTimeout`, not by a total.
 */
export async function fetchWithHeadersTimeout(
  url: string,
  init: RequestInit,
  options: HeadersTimeoutOptions,
): Promise<Response> {
  const host = hostOf(url);
  const timer = new AbortController();
  const handle = setTimeout(
    () => timer.abort(new HttpTimeoutError('headers', options.timeoutMs, host)),
    options.timeoutMs,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  try {
    return await (options.fetch ?? fetch)(url, { ...init, signal });
  } catch (error) {
    if (timer.signal.aborted && !options.signal?.aborted) throw timer.signal.reason;
    throw error;
  } finally {
    clearTimeout(handle);
  }
}

/**
 * Reads a fetch body chunk by chunk, failing with HttpTimeoutError('idle') when no chunk arrives for `idleMs`.
 * The clock runs only while waiting for the network: time the consumer spends on a chunk (a slow disk) does not
 * count. On a timeout, an early exit or an error the body is cancelled, which closes the connection.
 */
export async function* readWithIdleTimeout(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  host: string,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let waiting = false;
  let expired: HttpTimeoutError | undefined;
  const timer = setTimeout(() => {
    if (!waiting) return;
    expired = new HttpTimeoutError('idle', idleMs, host);
    reader.cancel(expired).catch(() => undefined);
  }, idleMs);
  let finished = false;
  try {
    for (;;) {
      waiting = true;
      timer.refresh();
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } finally {
        waiting = false;
      }
      if (expired) throw expired;
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    clearTimeout(timer);
    if (!finished && !expired) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

export interface BodyText {
  text: string;
  /** False when the body was longer than `maxBytes` (then `text` is its start). */
  complete: boolean;
  contentType: string;
}

/** A whole (small) body as text, with the idle timeout and a size cap, so a hostile server can neither stall nor flood us. */
export async function readBodyText(
  response: Response,
  options: { idleMs: number; maxBytes: number; host: string },
): Promise<BodyText> {
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.body) return { text: '', complete: true, contentType };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  for await (const chunk of readWithIdleTimeout(response.body, options.idleMs, options.host)) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > options.maxBytes) {
      complete = false;
      break;
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete, contentType };
}

/**
 * What a body is, in a few words, for "expected X, got Y" messages: never the content itself, which may be
 * long, binary, or (from a hostile server) crafted to look like our own output.
 */
export function describeBody(body: Pick<BodyText, 'text' | 'contentType' | 'complete'>): string {
  const head = body.text.trimStart().slice(0, 64).toLowerCase();
  if (/html/i.test(body.contentType) || head.startsWith('<!doctype html') || head.startsWith('<html')) {
    return 'an HTML page';
  }
  if (!body.complete) return 'a body too large to be what was asked for';
  if (body.text.trim() === '') return 'an empty body';
  try {
    return describeJson(JSON.parse(body.text));
  } catch {
    return /json/i.test(body.contentType) ? 'malformed JSON' : 'text that is not JSON';
  }
}

/** `a JSON array`, `a JSON object`, `null`, `a JSON string`… */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a JSON array';
  return `a JSON ${typeof value}`;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * A timeout in seconds from the environment (`HF_HUB_ETAG_TIMEOUT=10`, `ATOMR_INFER_REMOTE_TIMEOUT=2.5`), in ms.
 * Blank is unset; anything but a positive decimal is a ConfigError naming the variable.
 */
export function timeoutFromEnv(env: NodeJS.ProcessEnv, name: string, defaultSeconds: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return defaultSeconds * 1000;
  const text = raw.trim();
  const seconds = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: expected a number of seconds greater than 0 (e.g. ${defaultSeconds})`,
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}
