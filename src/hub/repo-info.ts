import { describeJson } from '../core/http-timeouts.js';

/**
 * The Hub's model info (`GET /api/models/<repo>/revision/<rev>?blobs=true`), checked field by field before
 * anything is trusted: the commit and every file's path and blob name become paths in the cache, so a wrong or
 * hostile answer (an HTML page from a proxy, a mirror that drops fields, `../` in a name) must be refused here,
 * not turn into a SyntaxError, a download of nothing, or a write outside the cache.
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
  /**
   * Whether downloads need an accepted licence and a token: the Hub's `gated` is `false`, `"auto"` or
   * `"manual"`. Absent when the answer has no such field (a mirror that drops it).
   */
  gated?: boolean;
}

/** The cache blob name of a file, which is also its checksum: LFS sha256, else the git oid (the Hub's ETag). */
export function blobNameOf(file: Pick<RemoteFile, 'blobId' | 'lfsSha256'>): string {
  return file.lfsSha256 ?? file.blobId;
}

export type ParsedRepoInfo = { ok: true; info: RepoInfo } | { ok: false; problem: string };

const GIT_OID = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * A relative, `/`-separated path that stays inside the snapshot: no `..`, `.`, empty segment, `\\` or control
 * character, and none of the forms Windows reads as absolute (huggingface_hub _validate_relative_filename):
 * a root (`/x`, `//server/share`), a drive (`C:/x`, drive-relative `D:x`).
 */
export function isSafeRepoPath(path: string): boolean {
  if (path.length === 0 || path.length > 1024 || path.startsWith('/')) return false;
  if (/^[A-Za-z]:/.test(path)) return false;
  if (path.includes('\\') || /\p{Cc}/u.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Validates parsed JSON; `problem` says in a few words what is wrong with it. */
export function parseRepoInfo(json: unknown, repo: string, revision: string): ParsedRepoInfo {
  if (!isRecord(json)) return { ok: false, problem: `expected a JSON object, got ${describeJson(json)}` };
  if (typeof json.sha !== 'string' || !GIT_OID.test(json.sha)) {
    return { ok: false, problem: 'no 40-hex commit "sha"' };
  }
  if (!Array.isArray(json.siblings)) return { ok: false, problem: 'no "siblings" file list' };
  const files: RemoteFile[] = [];
  for (const [index, entry] of json.siblings.entries()) {
    const parsed = parseSibling(entry);
    if (typeof parsed === 'string') return { ok: false, problem: `file #${index + 1} ${parsed}` };
    files.push(parsed);
  }
  const gated =
    json.gated === false
      ? false
      : json.gated === true || json.gated === 'auto' || json.gated === 'manual'
        ? true
        : undefined;
  return {
    ok: true,
    info: { repo, revision, commit: json.sha, files, ...(gated === undefined ? {} : { gated }) },
  };
}

function parseSibling(entry: unknown): RemoteFile | string {
  if (!isRecord(entry)) return 'is not an object';
  const path = entry.rfilename;
  if (typeof path !== 'string' || !isSafeRepoPath(path)) return `has an unusable path ${quoted(path)}`;
  if (typeof entry.blobId !== 'string' || !GIT_OID.test(entry.blobId)) {
    return `(${quoted(path)}) has no 40-hex "blobId"`;
  }
  const lfs = entry.lfs;
  if (
    lfs !== undefined &&
    lfs !== null &&
    (!isRecord(lfs) || typeof lfs.sha256 !== 'string' || !SHA256.test(lfs.sha256))
  ) {
    return `(${quoted(path)}) has an "lfs" entry without a 64-hex "sha256"`;
  }
  const lfsSha = isRecord(lfs) ? (lfs.sha256 as string) : undefined;
  const size = isSize(entry.size) ? entry.size : isRecord(lfs) && isSize(lfs.size) ? lfs.size : undefined;
  if (size === undefined) return `(${quoted(path)}) has no size`;
  return { path, size, blobId: entry.blobId, ...(lfsSha ? { lfsSha256: lfsSha } : {}) };
}
