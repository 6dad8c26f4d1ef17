import { AtomrError } from '../core/errors.js';
import {
  TIMEOUT_TRIES,
  describeBody,
  fetchWithHeadersTimeout,
  hostOf,
  isTimeoutError,
  readBodyText,
} from '../core/http-timeouts.js';
import type { HfToken } from '../core/paths.js';
import { RETRYABLE_STATUSES, parseRateLimit, parseRetryAfter, sleep } from '../core/retry.js';
import {
  foreignRefusalError,
  hubBadResponseError,
  hubRateLimitError,
  hubStatusError,
  hubTimeoutError,
  hubUnreachableError,
  type HubErrorContext,
  type HubRequestKind,
} from './hub-errors.js';
import { parseRepoInfo, type RepoInfo } from './repo-info.js';
import { describeNetworkError, isTransientNetworkError } from '../core/network-errors.js';
import { DEFAULT_RETRY_POLICY, backoffDelay, type RetryPolicy } from './retry.js';

/** The Hub's host name is not a typo: a name that did not resolve (a resolver hiccup) is worth another try. */
const HUB_NETWORK = { retryUnresolvedHost: true } as const;

export { blobNameOf, type RemoteFile, type RepoInfo } from './repo-info.js';

/**
 * A small Hugging Face Hub client on Node's fetch (undici). We do not use @huggingface/hub's download helpers:
 * `downloadFileToCacheDir` neither resumes nor verifies checksums nor locks, and it reports no progress, which
 * are the four things `pull` is for. We talk to the same two endpoints Python's huggingface_hub uses:
 *   GET /api/models/<repo>/revision/<rev>?blobs=true  → commit sha + every file's size, git oid and LFS sha256
 *   GET /<repo>/resolve/<commit>/<path>                → the bytes (302 to a CDN for LFS files), Range-capable
 * The token goes only to the endpoint's own origin: redirects are followed by hand so a CDN never sees it.
 * Like huggingface_hub (utils/_http.py) a 429 whose `RateLimit` header says the limit is used up waits for its
 * reset (t + 1 s) instead of backing off blindly, and an error that did not come from the Hub (a CDN's or a
 * proxy's 403) is not reported as a gated repo.
 */

export interface RetryNotice {
  what: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface HubClientOptions {
  endpoint: string;
  token?: HfToken | undefined;
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  onRetry?: (notice: RetryNotice) => void;
  timeouts?: Partial<HubTimeouts>;
  /**
   * `always` (default): the token goes with every request to the Hub. `when-needed` (HF_HUB_DISABLE_IMPLICIT_TOKEN):
   * a repo is asked without it, and with it only after the Hub answered 401/403 for that repo.
   */
  sendToken?: 'always' | 'when-needed';
}

/**
 * Per request kind, the time allowed for the response headers and the longest silence in a body (the same
 * number, as huggingface_hub's `timeout=` is for requests): model info (HF_HUB_ETAG_TIMEOUT) and files
 * (HF_HUB_DOWNLOAD_TIMEOUT). A file's body has no total: it may take an hour as long as bytes keep coming.
 */
export interface HubTimeouts {
  metadataMs: number;
  downloadMs: number;
}

/** huggingface_hub's defaults (constants.DEFAULT_ETAG_TIMEOUT, DEFAULT_DOWNLOAD_TIMEOUT): 10 s each. */
export const DEFAULT_HUB_TIMEOUTS: HubTimeouts = { metadataMs: 10_000, downloadMs: 10_000 };

/** Model info is JSON; even a repo with thousands of files stays far below this. */
const MAX_REPO_INFO_BYTES = 64 * 1024 * 1024;

/** Per-call overrides: `attempts: 1` asks once, for when the cache can answer if the Hub does not. */
export interface RequestOptions {
  attempts?: number;
}

export interface OpenedFile {
  body: ReadableStream<Uint8Array>;
  /** Offset of the first byte of `body`: `start` when the server honoured Range, else 0. */
  offset: number;
  /** Full size of the file when the server said so. */
  size: number | undefined;
  /** Where the bytes come from (the CDN after a redirect), for messages. */
  host: string;
}

const MAX_REDIRECTS = 10;

/**
 * The server answered 416 to a Range request: the partial file no longer fits the file it serves (a re-upload,
 * a CDN with another copy). The caller discards the partial and starts again from byte 0.
 */
export class RangeRefusedError extends Error {
  constructor(
    readonly start: number,
    readonly contentRange: string | null,
  ) {
    super(`HTTP 416 for bytes=${start}- (${contentRange ?? 'no Content-Range'})`);
    this.name = 'RangeRefusedError';
  }
}

interface Followed {
  response: Response;
  /** The URL that answered (after redirects). */
  url: string;
  redirected: boolean;
}

export class HubClient {
  readonly endpoint: string;
  private readonly origin: string;
  private readonly token: HfToken | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly policy: RetryPolicy;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;
  readonly timeouts: HubTimeouts;
  private readonly infoCache = new Map<string, Promise<RepoInfo>>();
  private readonly sendToken: 'always' | 'when-needed';
  /** With `when-needed`: the repos the Hub refused without a token. */
  private readonly reposNeedingToken = new Set<string>();

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.origin = new URL(this.endpoint).origin;
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.onRetry = options.onRetry;
    this.timeouts = { ...DEFAULT_HUB_TIMEOUTS, ...options.timeouts };
    this.sendToken = options.sendToken ?? 'always';
  }

  get retryPolicy(): RetryPolicy {
    return this.policy;
  }

  /** Resolves `revision` to a commit and lists every file with size and checksum. Memoised per client. */
  repoInfo(
    repo: string,
    revision = 'main',
    signal?: AbortSignal,
    options: RequestOptions = {},
  ): Promise<RepoInfo> {
    const key = `${repo}@${revision}`;
    let pending = this.infoCache.get(key);
    if (!pending) {
      pending = this.fetchRepoInfo(repo, revision, signal, options);
      this.infoCache.set(key, pending);
      pending.catch(() => this.infoCache.delete(key));
    }
    return pending;
  }

  private async fetchRepoInfo(
    repo: string,
    revision: string,
    signal: AbortSignal | undefined,
    options: RequestOptions,
  ): Promise<RepoInfo> {
    const url = `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const context = this.context(repo, revision);
    const what = `the model info of ${repo}@${revision}`;
    return this.request(url, { accept: 'application/json' }, context, signal, {
      kind: 'metadata',
      attempts: options.attempts,
      // The body is read inside the retry loop, so a body that stalls is retried like headers that never come.
      consume: async (response) => {
        const body = await readBodyText(response, {
          idleMs: this.timeouts.metadataMs,
          maxBytes: MAX_REPO_INFO_BYTES,
          host: hostOf(response.url || url),
        });
        let json: unknown;
        try {
          json = JSON.parse(body.text);
        } catch {
          throw hubBadResponseError(this.endpoint, what, `expected JSON, got ${describeBody(body)}`);
        }
        const parsed = parseRepoInfo(json, repo, revision);
        if (!parsed.ok) throw hubBadResponseError(this.endpoint, what, parsed.problem);
        return parsed.info;
      },
    });
  }

  /** Opens `path` at `commit` from byte `start` (HTTP Range), retrying transient failures before the body. */
  async openFile(
    repo: string,
    commit: string,
    path: string,
    start: number,
    signal?: AbortSignal,
  ): Promise<OpenedFile> {
    const url = `${this.endpoint}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (start > 0) headers.range = `bytes=${start}-`;
    const response = await this.request(url, headers, this.context(repo, commit, path), signal, {
      kind: 'download',
      consume: async (opened) => opened,
      ...(start > 0 ? { accept: (status: number) => status === 416 } : {}),
    });
    if (response.status === 416) {
      await response.body?.cancel().catch(() => undefined);
      throw new RangeRefusedError(start, response.headers.get('content-range'));
    }
    if (!response.body) {
      throw hubBadResponseError(this.endpoint, `${repo}/${path}`, 'a response without a body');
    }
    const contentRange = response.headers.get('content-range');
    const honoured = response.status === 206 && contentRange !== null;
    const total = honoured
      ? Number(contentRange.split('/')[1])
      : Number(response.headers.get('content-length') ?? Number.NaN);
    return {
      body: response.body,
      offset: honoured ? start : 0,
      size: Number.isFinite(total) ? total : undefined,
      host: hostOf(response.url || url),
    };
  }

  private context(repo: string, revision: string, file?: string): HubErrorContext {
    return {
      endpoint: this.endpoint,
      repo,
      revision,
      tokenSource: this.token?.source,
      ...(file === undefined ? {} : { file }),
    };
  }

  /**
   * GET with manual redirects, retries and error mapping; resolves to what `consume` makes of a 2xx response.
   * Refused or dropped connections, 408/429/5xx get the policy's attempts; timeouts at most TIMEOUT_TRIES.
   */
  private async request<T>(
    url: string,
    headers: Record<string, string>,
    context: HubErrorContext,
    signal: AbortSignal | undefined,
    options: {
      kind: HubRequestKind;
      attempts?: number | undefined;
      consume: (response: Response) => Promise<T>;
      /** A non-2xx status handed to `consume` instead of failing (416 for a Range request). */
      accept?: (status: number) => boolean;
    },
  ): Promise<T> {
    const what = context.file ? `${context.repo}/${context.file}` : context.repo;
    const attempts = options.attempts ?? this.policy.attempts;
    const timeoutMs = options.kind === 'metadata' ? this.timeouts.metadataMs : this.timeouts.downloadMs;
    let timeouts = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const withToken = this.sendToken === 'always' || this.reposNeedingToken.has(context.repo);
        const followed = await this.followRedirects(url, headers, timeoutMs, withToken, signal);
        const { response } = followed;
        if (response.ok || options.accept?.(response.status)) return await options.consume(response);
        await response.body?.cancel().catch(() => undefined);
        const status = response.status;
        if ((status === 401 || status === 403) && this.token && !withToken && !followed.redirected) {
          // HF_HUB_DISABLE_IMPLICIT_TOKEN: the Hub says this repo needs the token; ask again with it.
          this.reposNeedingToken.add(context.repo);
          attempt--;
          continue;
        }
        const limit = status === 429 ? parseRateLimit(response.headers.get('ratelimit')) : undefined;
        if (limit?.remaining === 0) {
          // The limit is used up until its window resets: waiting less only spends another request.
          const waitMs = (limit.resetSeconds + 1) * 1000;
          if (waitMs > this.policy.maxRetryAfterMs || attempt >= attempts) {
            throw hubRateLimitError(
              this.endpoint,
              what,
              limit.resource,
              limit.resetSeconds,
              this.token !== undefined,
            );
          }
          const reason = `the Hub's "${limit.resource}" rate limit is used up; it resets in ${limit.resetSeconds} s`;
          await this.pause(what, attempt, reason, waitMs, signal);
          continue;
        }
        if (RETRYABLE_STATUSES.has(status) && attempt < attempts) {
          const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
          await this.pause(what, attempt, `HTTP ${status}`, retryAfter, signal);
          continue;
        }
        throw this.statusError(followed, context);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof AtomrError) throw error;
        const timedOut = isTimeoutError(error);
        if (timedOut) timeouts++;
        const again = timedOut ? timeouts < TIMEOUT_TRIES : isTransientNetworkError(error, HUB_NETWORK);
        if (again && attempt < attempts) {
          await this.pause(what, attempt, describeNetworkError(error), undefined, signal);
          continue;
        }
        if (timedOut) {
          const detail = error instanceof Error ? error.message : String(error);
          throw hubTimeoutError(this.endpoint, what, detail, attempt, options.kind);
        }
        if (isTransientNetworkError(error, HUB_NETWORK) || error instanceof TypeError) {
          throw hubUnreachableError(this.endpoint, describeNetworkError(error), context.repo);
        }
        throw error;
      }
    }
  }

  /**
   * A 401/403/404 without the Hub's error headers (X-Error-Code / X-Error-Message) is not the Hub's verdict on
   * the repo: from the CDN a redirect led to, or a 403 from a proxy or firewall answering for the Hub's URL.
   */
  private statusError(followed: Followed, context: HubErrorContext): AtomrError {
    const { response, url } = followed;
    const status = response.status;
    const errorCode = response.headers.get('x-error-code');
    const hubHeaders = errorCode !== null || response.headers.get('x-error-message') !== null;
    const foreignHost = new URL(url).origin !== this.origin;
    if ([401, 403, 404].includes(status) && !hubHeaders && (foreignHost || status === 403)) {
      return foreignRefusalError(status, hostOf(url), context, foreignHost);
    }
    return hubStatusError(status, errorCode, context);
  }

  private async pause(
    what: string,
    attempt: number,
    reason: string,
    retryAfterMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const delayMs = backoffDelay(attempt, this.policy, retryAfterMs);
    this.onRetry?.({ what, attempt, delayMs, reason });
    await sleep(delayMs, signal);
  }

  private async followRedirects(
    startUrl: string,
    headers: Record<string, string>,
    timeoutMs: number,
    withToken: boolean,
    signal?: AbortSignal,
  ): Promise<Followed> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(url).origin === this.origin;
      const requestHeaders: Record<string, string> = {
        'user-agent': `atomr-infer (node/${process.versions.node})`,
        ...headers,
      };
      // The token is for the Hub only: a CDN or any other host a redirect names never receives it.
      if (sameOrigin && withToken && this.token) requestHeaders.authorization = `Bearer ${this.token.value}`;
      const response = await fetchWithHeadersTimeout(
        url,
        { headers: requestHeaders, redirect: 'manual' },
        { timeoutMs, signal, fetch: this.fetchImpl },
      );
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        url = new URL(location, url).toString();
        continue;
      }
      return { response, url, redirected: hop > 0 };
    }
    throw hubBadResponseError(this.endpoint, startUrl, `more than ${MAX_REDIRECTS} redirects`);
  }
}
