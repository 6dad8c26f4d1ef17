import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback fake of the Hugging Face Hub, reached through HF_ENDPOINT. Two servers, like the real thing:
 *   hub: GET /api/models/<org>/<name>/revision/<rev>   model info with sha and siblings (size, blobId, lfs)
 *        GET|HEAD /<org>/<name>/resolve/<rev>/<path>   small files directly; LFS files 302 to the CDN
 *   cdn: GET /blobs/<sha256>                           LFS content, with Range support (a different origin,
 *                                                      so tests can check the token never leaves the Hub)
 * Faults are injected per request with `fail(...)`. Every served body byte is counted per file.
 */

export interface FakeFile {
  path: string;
  content: Buffer;
  /** Stored with LFS (sha256 blob, served from the CDN). Default: `.gguf`/`.safetensors` files. */
  lfs?: boolean;
}

export interface FakeRepo {
  id: string;
  files: FakeFile[];
  /** Needs `Authorization: Bearer <token>`: 401 GatedRepo without, 403 with a wrong one. */
  gated?: boolean;
  /** Commit of `main` (random-looking but fixed when omitted). */
  commit?: string;
}

export type Fault =
  | {
      kind: 'status';
      status: number;
      retryAfter?: string;
      errorCode?: string;
      /** The Hub's `RateLimit` header on a 429, e.g. `"api";r=0;t=55` (IETF draft-ietf-httpapi-ratelimit-headers). */
      rateLimit?: string;
    }
  /** A plain answer as a CDN, proxy or firewall sends it: an HTML body and none of the Hub's X-Error-* headers. */
  | { kind: 'foreign-status'; status: number }
  /** Sends the headers and `afterBytes` body bytes, then destroys the socket. */
  | { kind: 'drop'; afterBytes: number }
  /** Sends `afterBytes` body bytes and then nothing, keeping the socket open until the server closes. */
  | { kind: 'stall'; afterBytes: number }
  /** Ignores the Range header and sends the whole file with 200. */
  | { kind: 'ignore-range' }
  /** Sends at about this many bytes per second (for overlapping concurrent downloads). */
  | { kind: 'throttle'; bytesPerSecond: number };

export interface FaultRule {
  fault: Fault;
  /** Which requests: model info, resolve (hub side), or CDN content. Default: all. */
  on?: 'api' | 'resolve' | 'cdn' | 'any';
  /** Only requests for this file path (resolve/cdn). */
  path?: string;
  /** How many requests it applies to; default 1. `Infinity` for all. */
  times?: number;
}

export interface RecordedRequest {
  kind: 'api' | 'resolve' | 'cdn' | 'other';
  method: string;
  url: string;
  authorization: string | undefined;
  range: string | undefined;
}

export interface FakeHub {
  /** HF_ENDPOINT for the hub server. */
  url: string;
  cdnUrl: string;
  token: string;
  requests: RecordedRequest[];
  /** Body bytes served for a repo file (CDN and direct), across all requests. */
  bytesServed(path: string): number;
  totalBytesServed(): number;
  commitOf(repo: string): string;
  sha256Of(repo: string, path: string): string;
  fail(rule: FaultRule): void;
  /** Resolves once `bytesServed(path)` reaches at least `bytes`. */
  waitForBytes(path: string, bytes: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface StoredFile {
  path: string;
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitOid: string;
}

interface StoredRepo {
  id: string;
  commit: string;
  gated: boolean;
  files: Map<string, StoredFile>;
}

export function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export async function startFakeHub(options: { repos: FakeRepo[]; token?: string }): Promise<FakeHub> {
  const token = options.token ?? 'hf_fakeTokenForTests0123456789abcdefXYZ';
  const repos = new Map<string, StoredRepo>();
  for (const repo of options.repos) {
    const files = new Map<string, StoredFile>();
    for (const file of repo.files) {
      const lfs = file.lfs ?? /\.(gguf|safetensors)$/.test(file.path);
      files.set(file.path, {
        path: file.path,
        content: file.content,
        lfs,
        sha256: sha256(file.content),
        gitOid: lfs
          ? gitBlobOid(
              Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(file.content)}\n`),
            )
          : gitBlobOid(file.content),
      });
    }
    const commit = repo.commit ?? createHash('sha1').update(`commit:${repo.id}`).digest('hex');
    repos.set(repo.id, { id: repo.id, commit, gated: repo.gated ?? false, files });
  }
  const byBlob = new Map<string, StoredFile>();
  for (const repo of repos.values()) for (const file of repo.files.values()) byBlob.set(file.sha256, file);

  const served = new Map<string, number>();
  const rules: Array<FaultRule & { left: number }> = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const count = (path: string, bytes: number): void => {
    served.set(path, (served.get(path) ?? 0) + bytes);
    for (const wake of waiters) wake();
  };
  const takeFault = (kind: RecordedRequest['kind'], path?: string): Fault | undefined => {
    for (const rule of rules) {
      if (rule.left <= 0) continue;
      if (rule.on && rule.on !== 'any' && rule.on !== kind) continue;
      if (rule.path && rule.path !== path) continue;
      rule.left--;
      return rule.fault;
    }
    return undefined;
  };

  const cdn = createServer((req, res) => {
    requests.push(record('cdn', req));
    const match = /^\/blobs\/([0-9a-f]{64})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const file = match ? byBlob.get(match[1] ?? '') : undefined;
    if (!file) return sendError(res, 404, 'EntryNotFound', 'blob not found');
    const fault = takeFault('cdn', file.path);
    if (fault?.kind === 'status') return sendFault(res, fault);
    if (fault?.kind === 'foreign-status') return sendForeign(res, fault.status);
    serveContent(req, res, file, fault, count);
  });
  // Another host name for the same loopback server: clients (ours, Python's) treat it as a foreign CDN and
  // must not forward the token there, exactly as with the real Hub's CDN.
  const cdnUrl = (await listen(cdn)).replace('127.0.0.1', 'localhost');

  const hub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const kind = api ? 'api' : resolve ? 'resolve' : 'other';
    requests.push(record(kind, req));
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = repoId ? repos.get(repoId) : undefined;
    const path = resolve ? decodeURIComponent(resolve[3] ?? '') : undefined;
    const fault = kind === 'other' ? undefined : takeFault(kind, path);
    if (fault?.kind === 'status') return sendFault(res, fault);
    if (fault?.kind === 'foreign-status') return sendForeign(res, fault.status);
    if (!repo) return sendError(res, 401, 'RepoNotFound', 'Repository not found');
    if (repo.gated) {
      const auth = req.headers.authorization;
      if (auth === undefined) return sendError(res, 401, 'GatedRepo', 'Access to this model is restricted');
      if (auth !== `Bearer ${token}`)
        return sendError(res, 403, 'GatedRepo', 'Access to this model is restricted');
    }
    const revision = decodeURIComponent((api ?? resolve)?.[2] ?? '');
    if (revision !== 'main' && revision !== repo.commit) {
      return sendError(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    }
    if (api) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          _id: repo.id,
          id: repo.id,
          sha: repo.commit,
          private: false,
          gated: repo.gated ? 'manual' : false,
          siblings: [...repo.files.values()].map((file) => ({
            rfilename: file.path,
            size: file.content.length,
            blobId: file.gitOid,
            ...(file.lfs
              ? { lfs: { sha256: file.sha256, size: file.content.length, pointerSize: 134 } }
              : {}),
          })),
        }),
      );
      return;
    }
    const file = path === undefined ? undefined : repo.files.get(path);
    if (!file) return sendError(res, 404, 'EntryNotFound', `${path ?? ''} does not exist on "${revision}"`);
    res.setHeader('x-repo-commit', repo.commit);
    if (file.lfs) {
      res.statusCode = 302;
      res.setHeader('x-linked-etag', `"${file.sha256}"`);
      res.setHeader('x-linked-size', String(file.content.length));
      res.setHeader('location', `${cdnUrl}/blobs/${file.sha256}`);
      res.end();
      return;
    }
    res.setHeader('etag', `"${file.gitOid}"`);
    serveContent(req, res, file, fault, count);
  });
  const url = await listen(hub);

  return {
    url,
    cdnUrl,
    token,
    requests,
    bytesServed: (path) => served.get(path) ?? 0,
    totalBytesServed: () => [...served.values()].reduce((a, b) => a + b, 0),
    commitOf: (repo) => repos.get(repo)?.commit ?? '',
    sha256Of: (repo, path) => repos.get(repo)?.files.get(path)?.sha256 ?? '',
    fail: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    waitForBytes: (path, bytes, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake hub: ${path} reached ${served.get(path) ?? 0} of ${bytes} bytes`));
        }, timeoutMs);
        const check = (): void => {
          if ((served.get(path) ?? 0) < bytes) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      await Promise.all([closeServer(hub), closeServer(cdn)]);
    },
  };
}

function record(kind: RecordedRequest['kind'], req: IncomingMessage): RecordedRequest {
  return {
    kind,
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    authorization: req.headers.authorization,
    range: req.headers.range,
  };
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.statusCode = status;
  res.setHeader('x-error-code', code);
  res.setHeader('x-error-message', message);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ error: message }));
}

function sendFault(res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
  if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
  if (fault.rateLimit !== undefined) {
    res.setHeader('ratelimit', fault.rateLimit);
    res.setHeader('ratelimit-policy', '"fixed window";"api";q=500;w=300');
  }
  sendError(res, fault.status, fault.errorCode ?? 'Fault', `injected HTTP ${fault.status}`);
}

function sendForeign(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html');
  res.end(`<html><body><h1>${status}</h1>Request blocked.</body></html>`);
}

function serveContent(
  req: IncomingMessage,
  res: ServerResponse,
  file: StoredFile,
  fault: Fault | undefined,
  count: (path: string, bytes: number) => void,
): void {
  const size = file.content.length;
  let start = 0;
  const range = fault?.kind === 'ignore-range' ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) {
    start = Number(range[1]);
    if (start >= size) {
      res.statusCode = 416;
      res.setHeader('content-range', `bytes */${size}`);
      res.end();
      return;
    }
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${start}-${size - 1}/${size}`);
  }
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('content-length', String(size - start));
  res.setHeader('content-type', 'application/octet-stream');
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let body = file.content.subarray(start);
  if (fault?.kind === 'drop' || fault?.kind === 'stall') {
    body = body.subarray(0, Math.max(0, fault.afterBytes - 0));
    res.write(body, () => {
      count(file.path, body.length);
      // Let the client consume what was sent before the connection dies, as a real mid-file drop would.
      if (fault.kind === 'drop') setTimeout(() => res.socket?.destroy(), 100);
    });
    return;
  }
  if (fault?.kind === 'throttle') {
    writeThrottled(res, body, fault.bytesPerSecond, (bytes) => count(file.path, bytes));
    return;
  }
  writeChunked(res, body, (bytes) => count(file.path, bytes));
}

function writeThrottled(
  res: ServerResponse,
  body: Buffer,
  bytesPerSecond: number,
  onBytes: (n: number) => void,
): void {
  const tickMs = 20;
  const slice = Math.max(1, Math.round((bytesPerSecond * tickMs) / 1000));
  let offset = 0;
  const timer = setInterval(() => {
    const chunk = body.subarray(offset, offset + slice);
    offset += chunk.length;
    onBytes(chunk.length);
    res.write(chunk);
    if (offset >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, tickMs);
  res.on('close', () => clearInterval(timer));
}

/** Writes in 256 KiB slices honouring backpressure, counting bytes as the socket accepts them. */
function writeChunked(res: ServerResponse, body: Buffer, onBytes: (bytes: number) => void): void {
  const slice = 256 * 1024;
  let offset = 0;
  const pump = (): void => {
    while (offset < body.length) {
      const chunk = body.subarray(offset, offset + slice);
      offset += chunk.length;
      onBytes(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => res.removeListener('drain', pump));
  pump();
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
