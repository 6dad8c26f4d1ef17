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
import { RangeRefusedError, blobNameOf, type HubClient, type RemoteFile } from './hub-client.js';
import { Hasher, hashPrefix } from './blob-hash.js';
import { checksumError, hubBadResponseError, hubTimeoutError, hubUnreachableError } from './hub-errors.js';
import { AtomrError } from '../core/errors.js';
import { TIMEOUT_TRIES, isTimeoutError, readWithIdleTimeout } from '../core/http-timeouts.js';
import { sleep } from '../core/retry.js';
import { describeNetworkError, isTransientNetworkError } from '../core/network-errors.js';
import { backoffDelay } from './retry.js';

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
  | { kind: 'corrupt-partial'; offset: number }
  /** The server answered 416 to resuming at `offset`: the partial was discarded, the file starts again at 0. */
  | { kind: 'range-refused'; offset: number };

export interface FetchBlobOptions {
  client: HubClient;
  cacheDir: string;
  repo: string;
  commit: string;
  file: RemoteFile;
  signal?: AbortSignal;
  onProgress?: (progress: BlobProgress) => void;
  onNotice?: (notice: BlobNotice) => void;
  /** A stalled body (no byte for this long) is dropped and resumed with Range; default: the client's download timeout. */
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

/**
 * Appends the file's bytes from `offset` to `partial`, reconnecting with Range after transient failures. A try
 * that delivered bytes resets the count (progress-based); tries without a byte are bounded, timeouts more tightly
 * (TIMEOUT_TRIES). Errors writing the partial file propagate as they are: the caller names the disk problem.
 */
async function streamInto(
  options: FetchBlobOptions,
  partial: string,
  offset: number,
  hash: Hasher,
): Promise<{ size: number; downloaded: number }> {
  const { client, repo, commit, file } = options;
  const policy = client.retryPolicy;
  const idleMs = options.idleTimeoutMs ?? client.timeouts.downloadMs;
  const what = `${repo}/${file.path}`;
  let size = offset;
  let downloaded = 0;
  let timeouts = 0;
  for (let attempt = 1; ; attempt++) {
    if (size >= file.size) return { size, downloaded };
    let progressed = false;
    try {
      const opened = await client.openFile(repo, commit, file.path, size, options.signal);
      if (opened.offset !== size) {
        // The server ignored Range: start over so the file and the hash stay in step.
        await truncate(partial, 0).catch(() => undefined);
        hash.reset();
        size = 0;
      }
      const handle = await open(partial, 'a');
      const writer = new AppendWriter(handle);
      let streamError: unknown;
      try {
        for await (const chunk of readWithIdleTimeout(opened.body, idleMs, opened.host)) {
          const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          // More bytes than the model info lists is not this file: stop before a hostile server fills the disk.
          if (size + buffer.length > file.size) {
            throw hubBadResponseError(
              client.endpoint,
              what,
              `more than the ${file.size} bytes its model info lists`,
            );
          }
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
      if (error instanceof AtomrError) throw error;
      if (error instanceof RangeRefusedError) {
        // 416: the bytes we hold do not belong to the file the server has now. Keeping them would fail the same
        // way on every run, so they go, and the file starts again (the one restart opening without Range).
        await truncate(partial, 0).catch(() => undefined);
        hash.reset();
        size = 0;
        options.onNotice?.({ kind: 'range-refused', offset: error.start });
        attempt--;
        continue;
      }
      // A connection that delivered bytes earns a fresh set of retries: only consecutive failures count.
      if (progressed) {
        attempt = 1;
        timeouts = 0;
      }
      const timedOut = isTimeoutError(error);
      if (timedOut) timeouts++;
      const again = timedOut
        ? timeouts < TIMEOUT_TRIES
        : isTransientNetworkError(error, { retryUnresolvedHost: true });
      if (!again || attempt >= policy.attempts) {
        if (timedOut) {
          const detail = error instanceof Error ? error.message : String(error);
          throw hubTimeoutError(client.endpoint, what, detail, attempt, 'download');
        }
        if (isTransientNetworkError(error, { retryUnresolvedHost: true })) {
          throw hubUnreachableError(client.endpoint, describeNetworkError(error), repo);
        }
        throw error;
      }
      const reason = timedOut ? 'stalled' : describeNetworkError(error);
      const delayMs = backoffDelay(attempt, policy);
      options.onNotice?.({ kind: 'retry', attempt, delayMs, reason });
      await sleep(delayMs, options.signal);
    }
  }
}
