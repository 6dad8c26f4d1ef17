import type { HfToken } from '../core/paths.js';
import { hubStatusError, hubUnreachableError, type HubErrorContext } from './hub-errors.js';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  describeNetworkError,
  isTransientNetworkError,
  type RetryPolicy,
} from './retry.js';
import { RETRYABLE_STATUSES, parseRetryAfter, sleep } from '../core/retry.js';

/**
 * A small Hugging Face Hub client on Node's fetch (undici). We do not use @huggingface/hub's download helpers:
 * `downloadFileToCacheDir` neither resumes nor verifies checksums nor locks, and it reports no progress, which
 * are the four things `pull` is for. We talk to the same two endpoints Python's huggingface_hub uses:
 *   GET /api/models/<repo>/revision/<rev>?blobs=true  → commit sha + every file's size, git oid and LFS sha256
 *   GET /<repo>/resolve/<commit>/<path>                → the bytes (302 to a CDN for LFS files), Range-capable
 * The token goes only to the endpoint's own origin: redirects are followed by hand so a CDN never sees it.
 */

export interface RemoteFile {
  /** Path inside the repo, `/`-separated. */
  path: string;
  size: number;
  /** Git blob oid (sha1): the cache blob name of a small (non-LFS) file, as its ETag is on the Hub. */
  blobId: string;
  /** LFS sha256: the cache blob name and checksum of a large file. */
  lfsSha256?: string;
}

export interface RepoInfo {
  repo: string;
  /** What was asked for: a branch, tag or commit. */
  revision: string;
  commit: string;
  files: RemoteFile[];
}

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
  /** Aborts a request whose response headers take longer than this. */
  headersTimeoutMs?: number;
}

export interface OpenedFile {
  body: ReadableStream<Uint8Array>;
  /** Offset of the first byte of `body`: `start` when the server honoured Range, else 0. */
  offset: number;
  /** Full size of the file when the server said so. */
  size: number | undefined;
}

const MAX_REDIRECTS = 10;

/** The cache blob name of a file: LFS sha256, else the git oid (what Python's cache uses, via the ETag). */
export function blobNameOf(file: RemoteFile): string {
  return file.lfsSha256 ?? file.blobId;
}

export class HubClient {
  readonly endpoint: string;
  private readonly origin: string;
  private readonly token: HfToken | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly policy: RetryPolicy;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;
  private readonly headersTimeoutMs: number;
  private readonly infoCache = new Map<string, Promise<RepoInfo>>();

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.origin = new URL(this.endpoint).origin;
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.onRetry = options.onRetry;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  }

  get retryPolicy(): RetryPolicy {
    return this.policy;
  }

  /** Resolves `revision` to a commit and lists every file with size and checksum. Memoised per client. */
  repoInfo(repo: string, revision = 'main', signal?: AbortSignal): Promise<RepoInfo> {
    const key = `${repo}@${revision}`;
    let pending = this.infoCache.get(key);
    if (!pending) {
      pending = this.fetchRepoInfo(repo, revision, signal);
      this.infoCache.set(key, pending);
      pending.catch(() => this.infoCache.delete(key));
    }
    return pending;
  }

  private async fetchRepoInfo(repo: string, revision: string, signal?: AbortSignal): Promise<RepoInfo> {
    const url = `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const context = this.context(repo, revision);
    const response = await this.request(url, { accept: 'application/json' }, context, signal);
    const json = (await response.json()) as unknown;
    return parseRepoInfo(json, repo, revision);
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
    const response = await this.request(url, headers, this.context(repo, commit, path), signal);
    if (!response.body) throw new Error(`empty response body for ${repo}/${path}`);
    const contentRange = response.headers.get('content-range');
    const honoured = response.status === 206 && contentRange !== null;
    const total = honoured
      ? Number(contentRange.split('/')[1])
      : Number(response.headers.get('content-length') ?? Number.NaN);
    return {
      body: response.body,
      offset: honoured ? start : 0,
      size: Number.isFinite(total) ? total : undefined,
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

  /** GET with manual redirects, retries and error mapping. Resolves only to a 2xx response. */
  private async request(
    url: string,
    headers: Record<string, string>,
    context: HubErrorContext,
    signal?: AbortSignal,
  ): Promise<Response> {
    const what = context.file ? `${context.repo}/${context.file}` : context.repo;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.followRedirects(url, headers, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (attempt < this.policy.attempts && (isTransientNetworkError(error) || isTimeout(error))) {
          await this.pause(what, attempt, describeNetworkError(error), undefined, signal);
          continue;
        }
        throw hubUnreachableError(this.endpoint, describeNetworkError(error), context.repo);
      }
      if (response.ok) return response;
      await response.body?.cancel().catch(() => undefined);
      if (RETRYABLE_STATUSES.has(response.status) && attempt < this.policy.attempts) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        await this.pause(what, attempt, `HTTP ${response.status}`, retryAfter, signal);
        continue;
      }
      throw hubStatusError(response.status, response.headers.get('x-error-code'), context);
    }
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
    signal?: AbortSignal,
  ): Promise<Response> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(url).origin === this.origin;
      const requestHeaders: Record<string, string> = {
        'user-agent': `atomr-infer (node/${process.versions.node})`,
        ...headers,
      };
      // The token is for the Hub only: a CDN or any other host a redirect names never receives it.
      if (sameOrigin && this.token) requestHeaders.authorization = `Bearer ${this.token.value}`;
      const timeout = new AbortController();
      const timer = setTimeout(
        () =>
          timeout.abort(new Error(`no response from ${new URL(url).host} in ${this.headersTimeoutMs} ms`)),
        this.headersTimeoutMs,
      );
      timer.unref();
      const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          headers: requestHeaders,
          redirect: 'manual',
          signal: combined,
        });
      } catch (error) {
        throw timeout.signal.aborted ? timeout.signal.reason : error;
      } finally {
        clearTimeout(timer);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        url = new URL(location, url).toString();
        continue;
      }
      return response;
    }
    throw new Error(`too many redirects for ${startUrl}`);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /no response from/.test(error.message);
}

function parseRepoInfo(json: unknown, repo: string, revision: string): RepoInfo {
  const data = json as { sha?: unknown; siblings?: unknown };
  if (typeof data.sha !== 'string' || !/^[0-9a-f]{40}$/.test(data.sha) || !Array.isArray(data.siblings)) {
    throw new Error(`unexpected model info for ${repo}@${revision}: no commit sha or file list`);
  }
  const files: RemoteFile[] = [];
  for (const entry of data.siblings as Array<Record<string, unknown>>) {
    const path = entry.rfilename;
    const size = entry.size;
    const blobId = entry.blobId;
    const lfs = entry.lfs as { sha256?: unknown; size?: unknown } | undefined;
    if (typeof path !== 'string' || typeof blobId !== 'string') continue;
    const lfsSha = typeof lfs?.sha256 === 'string' ? lfs.sha256 : undefined;
    const fileSize = typeof size === 'number' ? size : typeof lfs?.size === 'number' ? lfs.size : 0;
    files.push({ path, size: fileSize, blobId, ...(lfsSha ? { lfsSha256: lfsSha } : {}) });
  }
  return { repo, revision, commit: data.sha, files };
}
