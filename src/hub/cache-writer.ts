import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  open,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { repoCacheDir, repoFolderName, snapshotPath } from './cache-layout.js';
import { AppendWriter } from './append-writer.js';
import { acquireFileLock } from './file-lock.js';
import { blobNameOf, type HubClient, type RemoteFile } from './hub-client.js';
import { checksumError } from './hub-errors.js';
import { sleep } from '../core/retry.js';
import { backoffDelay, describeNetworkError, isTransientNetworkError } from './retry.js';

/**
 * Writes Python huggingface_hub's cache layout:
 *   blobs/<sha256 for LFS files | git oid for small files>   the content, written as <blob>.incomplete first
 *   snapshots/<commit>/<path>                                 relative symlink to the blob (a copy without symlinks)
 *   refs/<revision>                                           the commit, no trailing newline
 *   <cache>/.locks/<repo folder>/<blob>.lock                  one writer per blob
 * A blob appears under its final name only after its checksum matched, so readers never see a partial file.
 */

export const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

export function blobPath(cacheDir: string, repo: string, blobName: string): string {
  return join(repoCacheDir(cacheDir, repo), 'blobs', blobName);
}

export function incompletePath(cacheDir: string, repo: string, blobName: string): string {
  return `${blobPath(cacheDir, repo, blobName)}.incomplete`;
}

export function lockPath(cacheDir: string, repo: string, blobName: string): string {
  return join(cacheDir, '.locks', repoFolderName(repo), `${blobName}.lock`);
}

/** Size of a file, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** `refs/<revision>` ← commit, atomically; nothing for a revision that is itself a commit (as Python does). */
export async function writeRef(
  cacheDir: string,
  repo: string,
  revision: string,
  commit: string,
): Promise<void> {
  if (COMMIT_PATTERN.test(revision)) return;
  const path = join(repoCacheDir(cacheDir, repo), 'refs', ...revision.split('/'));
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === commit) return;
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, commit);
  await rename(temp, path);
}

/** Points `snapshots/<commit>/<path>` at the blob: a relative symlink, or a copy where symlinks fail. */
export async function linkSnapshot(
  cacheDir: string,
  repo: string,
  commit: string,
  file: string,
  blobName: string,
): Promise<string> {
  const pointer = snapshotPath(cacheDir, repo, commit, file);
  const blob = blobPath(cacheDir, repo, blobName);
  const target = relative(dirname(pointer), blob);
  await mkdir(dirname(pointer), { recursive: true });
  const existing = await lstat(pointer).catch(() => undefined);
  if (existing?.isSymbolicLink() && (await readlink(pointer)) === target) return pointer;
  if (existing?.isFile() && existing.size === (await stat(blob)).size) return pointer;
  const temp = `${pointer}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await symlink(target, temp);
  } catch {
    await copyFile(blob, temp);
  }
  await rename(temp, pointer);
  return pointer;
}

export interface BlobProgress {
  /** Bytes of this file now on disk (verified or not). */
  bytesOnDisk: number;
  /** Bytes received over the network since the last call. */
  delta: number;
}

export type BlobNotice =
  | { kind: 'wait-lock' }
  | { kind: 'resume'; offset: number }
  | { kind: 'retry'; attempt: number; delayMs: number; reason: string }
  | { kind: 'corrupt-partial'; offset: number };

export interface FetchBlobOptions {
  client: HubClient;
  cacheDir: string;
  repo: string;
  commit: string;
  file: RemoteFile;
  signal?: AbortSignal;
  onProgress?: (progress: BlobProgress) => void;
  onNotice?: (notice: BlobNotice) => void;
  /** A stalled body (no byte for this long) is dropped and resumed with Range. */
  idleTimeoutMs?: number;
}

export interface FetchBlobResult {
  path: string;
  /** Bytes received over the network by this call. */
  downloadedBytes: number;
  /** The verified blob was already in the cache (no download). */
  reused: boolean;
}

/** Ensures the file's verified blob is in the cache, downloading (or resuming) it under the blob's lock. */
export async function fetchBlob(options: FetchBlobOptions): Promise<FetchBlobResult> {
  const { cacheDir, repo, file } = options;
  const name = blobNameOf(file);
  const finalPath = blobPath(cacheDir, repo, name);
  if ((await sizeOf(finalPath)) === file.size) return { path: finalPath, downloadedBytes: 0, reused: true };

  const lock = await acquireFileLock(lockPath(cacheDir, repo, name), {
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: () => options.onNotice?.({ kind: 'wait-lock' }),
  });
  try {
    // Whoever held the lock may have just finished this very blob.
    if ((await sizeOf(finalPath)) === file.size) return { path: finalPath, downloadedBytes: 0, reused: true };
    await mkdir(dirname(finalPath), { recursive: true });
    const downloadedBytes = await downloadVerified(options, name, finalPath);
    return { path: finalPath, downloadedBytes, reused: false };
  } finally {
    await lock.release();
  }
}

async function downloadVerified(options: FetchBlobOptions, name: string, finalPath: string): Promise<number> {
  const { repo, file } = options;
  const partial = `${finalPath}.incomplete`;
  let downloaded = 0;
  // At most one restart: a partial left by an earlier run can be corrupt; a fresh download that fails
  // verification is an error, not a reason to loop.
  for (let pass = 0; pass < 2; pass++) {
    let existing = (await sizeOf(partial)) ?? 0;
    if (existing > file.size) {
      await truncate(partial, 0);
      existing = 0;
    }
    if (existing > 0) options.onNotice?.({ kind: 'resume', offset: existing });
    const hasher = new Hasher(file);
    if (existing > 0) await hashPrefix(partial, existing, hasher);
    const result = await streamInto(options, partial, existing, hasher);
    downloaded += result.downloaded;
    const digest = hasher.digest();
    const expected = file.lfsSha256 ?? file.blobId;
    if (result.size === file.size && digest === expected) {
      await rename(partial, finalPath);
      return downloaded;
    }
    await unlink(partial).catch(() => undefined);
    if (existing > 0 && pass === 0) {
      options.onNotice?.({ kind: 'corrupt-partial', offset: existing });
      continue;
    }
    throw checksumError(
      repo,
      file.path,
      `${expected} (${file.size} bytes)`,
      `${digest} (${result.size} bytes)`,
    );
  }
  throw new Error(`unreachable: ${name} neither verified nor failed`);
}

/** sha256 for LFS files; for small files, git's blob hash (sha1 of "blob <size>\0" + content). */
class Hasher {
  private hash: Hash;

  constructor(private readonly file: RemoteFile) {
    this.hash = this.fresh();
  }

  private fresh(): Hash {
    if (this.file.lfsSha256) return createHash('sha256');
    return createHash('sha1').update(`blob ${this.file.size}\0`);
  }

  reset(): void {
    this.hash = this.fresh();
  }

  update(data: Buffer): void {
    this.hash.update(data);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

async function hashPrefix(path: string, length: number, hash: Hasher): Promise<void> {
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** Appends the file's bytes from `offset` to `partial`, reconnecting with Range after transient failures. */
async function streamInto(
  options: FetchBlobOptions,
  partial: string,
  offset: number,
  hash: Hasher,
): Promise<{ size: number; downloaded: number }> {
  const { client, repo, commit, file } = options;
  const policy = client.retryPolicy;
  let size = offset;
  let downloaded = 0;
  for (let attempt = 1; ; attempt++) {
    if (size >= file.size) return { size, downloaded };
    const attemptAbort = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, attemptAbort.signal])
      : attemptAbort.signal;
    let progressed = false;
    try {
      const opened = await client.openFile(repo, commit, file.path, size, signal);
      if (opened.offset !== size) {
        // The server ignored Range: start over so the file and the hash stay in step.
        await truncate(partial, 0).catch(() => undefined);
        hash.reset();
        size = 0;
      }
      const handle = await open(partial, 'a');
      const writer = new AppendWriter(handle);
      const idle = idleWatchdog(attemptAbort, options.idleTimeoutMs ?? 60_000);
      let streamError: unknown;
      try {
        for await (const chunk of opened.body) {
          idle.touch();
          const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          hash.update(buffer);
          await writer.push(buffer);
          size += buffer.length;
          downloaded += buffer.length;
          progressed = true;
          options.onProgress?.({ bytesOnDisk: size, delta: buffer.length });
        }
      } catch (error) {
        streamError = error;
      } finally {
        idle.stop();
        // Whatever was received reaches the disk even when the connection broke, so file and hash agree.
        try {
          await writer.flush();
        } finally {
          await handle.close();
        }
      }
      if (streamError !== undefined) throw streamError;
      if (size < file.size) throw Object.assign(new Error('connection closed early'), { code: 'ECONNRESET' });
      return { size, downloaded };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const transient = isTransientNetworkError(error) || attemptAbort.signal.aborted;
      // A connection that delivered bytes earns a fresh set of retries: only consecutive failures count.
      if (progressed) attempt = 1;
      if (!transient || attempt >= policy.attempts) throw error;
      const reason = attemptAbort.signal.aborted ? 'stalled' : describeNetworkError(error);
      const delayMs = backoffDelay(attempt, policy);
      options.onNotice?.({ kind: 'retry', attempt, delayMs, reason });
      await sleep(delayMs, options.signal);
    }
  }
}

function idleWatchdog(controller: AbortController, idleMs: number): { touch(): void; stop(): void } {
  let last = Date.now();
  const timer = setInterval(
    () => {
      if (Date.now() - last > idleMs) controller.abort(new Error(`no data for ${idleMs} ms`));
    },
    Math.min(idleMs, 1000),
  );
  timer.unref();
  return {
    touch: () => {
      last = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}
