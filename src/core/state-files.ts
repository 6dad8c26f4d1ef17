import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { OTHER_ENV } from './env-names.js';
import { ConfigError } from './errors.js';

/**
 * Every read and write under the state directory (ATOMR_INFER_HOME: deployments.json, its lock, bench results)
 * goes through here, so a read-only, full, missing or uncreatable directory is always the same one-line error:
 * the path, what the file system said, and "set ATOMR_INFER_HOME to a writable directory".
 *
 * Exit code: 2 (configuration). Where the state lives is configuration (ATOMR_INFER_HOME, else XDG_STATE_HOME or
 * HOME), and the remedy is to point it somewhere writable or make room there. It is not 3 (a "skipped" verdict
 * scripts treat as a graceful no), not 4 (the weights are fine) and not 5 (the model loaded fine).
 */

/** A state file that cannot be read or written; exit 2. `code` is `state-unreadable` or `state-unwritable`. */
export class StateFileError extends ConfigError {
  constructor(
    message: string,
    readonly path: string,
    options: { hint: string; code: 'state-unreadable' | 'state-unwritable'; cause?: unknown },
  ) {
    super(message, options);
  }

  /** The same error with what had already succeeded in front, e.g. "… loaded fine, but it could not be registered: ". */
  withPrefix(prefix: string): StateFileError {
    return new StateFileError(`${prefix}${this.message}`, this.path, {
      hint: this.hint ?? '',
      code: this.code as 'state-unreadable' | 'state-unwritable',
      cause: this.cause,
    });
  }
}

/** What the file system said, in words (Node's own messages end in the syscall and a quoted path). */
const REASONS: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file size limit was reached',
  ENOENT: 'a directory on its path does not exist and cannot be created',
  ENOTDIR: 'a part of its path is a file, not a directory',
  EISDIR: 'it is a directory',
  ELOOP: 'its path has too many symbolic links',
  ENAMETOOLONG: 'its path is too long',
  EIO: 'an input/output error',
  EFIFO: 'it is a named pipe or socket, not a file',
};

const SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

function codeOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps a file-system error on a state file to the one-line StateFileError. `what` names the file for a person
 * ("the deployment state file"); errors that are not file-system errors (no `code`) are returned unchanged.
 */
export function stateFileError(
  operation: 'read' | 'write',
  file: string,
  what: string,
  error: unknown,
): unknown {
  if (error instanceof StateFileError) return error;
  const code = codeOf(error);
  if (code === undefined || !/^E[A-Z]+$/.test(code)) return error;
  const reason = Object.hasOwn(REASONS, code) ? REASONS[code] : (error as Error).message;
  const hint = SPACE_CODES.has(code)
    ? `free some space there, or set ${OTHER_ENV.home} to a writable directory on another disk`
    : `set ${OTHER_ENV.home} to a directory you can ${operation === 'read' ? 'read and write' : 'write to'}`;
  return new StateFileError(`cannot ${operation} ${what} ${file}: ${reason} (${code})`, file, {
    hint,
    code: operation === 'read' ? 'state-unreadable' : 'state-unwritable',
    cause: error,
  });
}

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

/**
 * `mkdir -p` that always ends. Node's `mkdir(path, { recursive: true })` spins forever at 100% CPU where a
 * directory cannot hold children but reports ENOENT (anything under /proc, some dangling symlinks): it reads
 * ENOENT as "create the parent first", and the parent always exists. Here each missing component is created
 * once, top-down, and the first failure is final.
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) throw errnoError('ENOTDIR', current);
      break;
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
      const parent = dirname(current);
      if (parent === current) throw error;
      missing.unshift(current);
      current = parent;
    }
  }
  for (const path of missing) {
    try {
      await mkdir(path);
    } catch (error) {
      // Another process made it meanwhile: fine, as long as it is a directory.
      if (codeOf(error) !== 'EEXIST' || !(await stat(path)).isDirectory()) throw error;
    }
  }
}

/**
 * Refuses named pipes, sockets and directories where a state file should be: reading or appending to a FIFO
 * blocks until another process opens its other end, so it would hang the command. Absent files pass.
 */
export async function assertNotSpecial(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  if (info.isDirectory()) throw errnoError('EISDIR', file);
  if (info.isFIFO() || info.isSocket()) throw errnoError('EFIFO', file);
}

/**
 * Replaces `file` with `text` atomically: a temp file beside it, then a rename. The temp file is removed when
 * any step fails (a full disk leaves an empty `*.tmp` otherwise), so the old file is either kept or replaced.
 */
export async function writeFileAtomically(
  file: string,
  text: string,
  options: { what: string; mode?: number },
): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await ensureDirectory(dirname(file));
    await writeFile(temp, text, { mode: options.mode ?? 0o666, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw stateFileError('write', file, options.what, error);
  }
}

/**
 * Appends `text` to `file` whole or not at all: on a failed write the file is cut back to its old length (no
 * half JSON line for the next reader), and a file this call created is removed again.
 */
export async function appendWhole(file: string, text: string, options: { what: string }): Promise<void> {
  try {
    await ensureDirectory(dirname(file));
    await assertNotSpecial(file);
    const existed = await stat(file).then(
      () => true,
      () => false,
    );
    const handle = await open(file, 'a');
    let size = 0;
    try {
      size = (await handle.stat()).size;
      await handle.appendFile(text, 'utf8');
    } catch (error) {
      // A character device (/dev/null, /dev/full) has no length to restore: ignore that truncate's failure.
      await handle.truncate(size).catch(() => undefined);
      await handle.close().catch(() => undefined);
      if (!existed) await rm(file, { force: true }).catch(() => undefined);
      throw error;
    }
    await handle.close();
  } catch (error) {
    throw stateFileError('write', file, options.what, error);
  }
}
