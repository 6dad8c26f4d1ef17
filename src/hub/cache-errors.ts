import { ConfigError, SkippedError, type AtomrError } from '../core/errors.js';
import { formatBytes } from './disk-space.js';

/**
 * What a failed write into the Hugging Face cache means to the user, in one line. `pull` keeps every byte it
 * wrote (the `.incomplete` file stays for the next run to resume), so each message says so where it matters.
 *   ENOSPC, EDQUOT   the disk (or the user's quota) is full: exit 3 `disk-space`, the pre-check's own message
 *   EFBIG            the file system or `ulimit -f` refuses a file this large: exit 3 `file-too-large`
 *   EROFS, EACCES, EPERM, ENOTDIR, EEXIST (mkdir)
 *                    the cache directory cannot be written where it is: a configuration problem (HF_HUB_CACHE,
 *                    HF_HOME, permissions), exit 2 `cache-not-writable`, naming the path
 */

const KEPT = 'the partial download is kept and the next pull resumes it';

export interface DiskSpaceFacts {
  repo: string;
  cacheDir: string;
  /** Bytes still to fetch. */
  downloadBytes: number;
  /** Free bytes at the cache; undefined when unknown. */
  freeBytes: number | undefined;
}

/** The disk-space refusal, before a download (the pre-check) or when the disk filled up during one. */
export function diskSpaceError(facts: DiskSpaceFacts, during = false, quota = false): SkippedError {
  const free = facts.freeBytes === undefined ? 'too little' : formatBytes(facts.freeBytes);
  const why = quota ? ' (disk quota exceeded)' : '';
  return new SkippedError(
    `not enough free disk for ${facts.repo}: ${formatBytes(facts.downloadBytes)} to download, ${free} free at ${facts.cacheDir}${why}`,
    {
      code: 'disk-space',
      hint: `free some space, or set HF_HUB_CACHE (or HF_HOME) to a larger disk${during ? `; ${KEPT}` : ''}`,
    },
  );
}

const NOT_WRITABLE = new Map([
  ['EROFS', 'read-only file system'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'operation not permitted'],
  ['ENOTDIR', 'a part of the path is a file, not a directory'],
]);

/** The AtomrError for a write failure in the cache, or undefined when `error` is not one of those above. */
export function cacheWriteError(error: unknown, facts: DiskSpaceFacts): AtomrError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  if (code === 'ENOSPC' || code === 'EDQUOT') return diskSpaceError(facts, true, code === 'EDQUOT');
  if (code === 'EFBIG') {
    return new SkippedError(
      `file too large for the file system at ${facts.cacheDir} while downloading ${facts.repo} (EFBIG: a per-file size limit such as FAT32's 4 GB, or \`ulimit -f\`)`,
      {
        code: 'file-too-large',
        hint: `set HF_HUB_CACHE (or HF_HOME) to a file system without that limit, or raise \`ulimit -f\`; ${KEPT}`,
      },
    );
  }
  const reason =
    code === undefined
      ? undefined
      : (NOT_WRITABLE.get(code) ??
        (code === 'EEXIST' && syscall === 'mkdir' ? 'a file is in the way of a directory' : undefined));
  if (reason === undefined) return undefined;
  return new ConfigError(
    `cannot write to the Hugging Face cache at ${path ?? facts.cacheDir}: ${reason} (${code})`,
    {
      code: 'cache-not-writable',
      hint: `set HF_HUB_CACHE (or HF_HOME) to a directory you can write, or fix ${facts.cacheDir}'s permissions`,
    },
  );
}
