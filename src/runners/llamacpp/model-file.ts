import { statSync, type Stats } from 'node:fs';

/**
 * What a path given as a model file actually is, found with stat() alone: a FIFO must never be opened (open()
 * blocks until a writer appears, so the CLI would hang), and "no such file" for a directory sends the user
 * looking for the wrong problem.
 */
export type ModelPathKind =
  | { kind: 'file'; size: number }
  | { kind: 'missing' }
  | { kind: 'unreadable'; code: string }
  | { kind: 'other'; what: string };

function describeStats(stats: Stats): string {
  if (stats.isDirectory()) return 'is a directory';
  if (stats.isFIFO()) return 'is a FIFO (named pipe)';
  if (stats.isSocket()) return 'is a socket';
  if (stats.isCharacterDevice()) return 'is a character device';
  if (stats.isBlockDevice()) return 'is a block device';
  return 'is not a plain file';
}

/** stat() follows symlinks: a link to a file is a file, a dangling link is missing. */
export function modelPathKind(path: string): ModelPathKind {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'unreadable', code };
  }
  return stats.isFile() ? { kind: 'file', size: stats.size } : { kind: 'other', what: describeStats(stats) };
}

/** `is a directory, not a regular file` and the like, for a path that exists but is no file. */
export function notARegularFile(kind: { what: string }): string {
  return `${kind.what}, not a regular file`;
}
