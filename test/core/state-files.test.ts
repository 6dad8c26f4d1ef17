import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  appendWhole,
  ensureDirectory,
  stateFileError,
  StateFileError,
  writeFileAtomically,
} from '../../src/core/state-files.js';

/**
 * The state-directory file helpers. Tests run as root, where chmod stops nothing, so every failure here is one
 * the kernel really returns to root: a parent that is a regular file (ENOTDIR), a directory under /proc
 * (ENOENT on mkdir, which sends Node's recursive mkdir into an endless loop), /dev/full (ENOSPC) and a rename
 * onto a directory (EISDIR). EROFS / EACCES get their e2e cases in test/e2e/hostile/state.test.ts.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomr-state-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something, open '/x'`), { code });

describe('stateFileError', () => {
  it.each([
    ['EROFS', 'the file system is read-only', 'to a directory you can write to'],
    ['EACCES', 'permission denied', 'to a directory you can write to'],
    ['ENOSPC', 'no space is left on the device', 'free some space there, or set ATOMR_INFER_HOME'],
    ['EDQUOT', 'the disk quota is used up', 'free some space there'],
    [
      'ENOENT',
      'a directory on its path does not exist and cannot be created',
      'to a directory you can write to',
    ],
    ['ENOTDIR', 'a part of its path is a file, not a directory', 'to a directory you can write to'],
  ])('%s on a write: one line naming the path and the reason, exit 2', (code, reason, hint) => {
    const error = stateFileError('write', '/s/deployments.json', 'the deployment state file', errno(code));
    expect(error).toBeInstanceOf(StateFileError);
    expect(error).toBeInstanceOf(ConfigError);
    const mapped = error as StateFileError;
    expect(mapped.message).toBe(
      `cannot write the deployment state file /s/deployments.json: ${reason} (${code})`,
    );
    expect(mapped.message).not.toContain('\n');
    expect(mapped.exitCode).toBe(2);
    expect(mapped.code).toBe('state-unwritable');
    expect(mapped.hint).toContain(hint);
    expect(mapped.hint).toContain('ATOMR_INFER_HOME');
  });

  it('says "read" for a read, with its own code, and keeps an unknown errno as Node worded it', () => {
    const read = stateFileError('read', '/s/d.json', 'the deployment state file', errno('ENOTDIR'));
    expect((read as StateFileError).code).toBe('state-unreadable');
    expect((read as StateFileError).message).toMatch(/^cannot read the deployment state file \/s\/d\.json: /);
    const odd = stateFileError('write', '/s/d.json', 'x', errno('EXDEV')) as StateFileError;
    expect(odd.message).toBe("cannot write x /s/d.json: EXDEV: something, open '/x' (EXDEV)");
  });

  it('leaves errors that are not file-system errors alone', () => {
    const plain = new TypeError('boom');
    expect(stateFileError('write', '/s', 'x', plain)).toBe(plain);
  });
});

describe('ensureDirectory', () => {
  it('creates every missing level and accepts an existing directory', async () => {
    await ensureDirectory(join(dir, 'a', 'b', 'c'));
    await ensureDirectory(join(dir, 'a', 'b', 'c'));
    expect(existsSync(join(dir, 'a', 'b', 'c'))).toBe(true);
  });

  it('fails with ENOTDIR when a parent is a regular file', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(ensureDirectory(join(dir, 'file', 'state'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.skipIf(!existsSync('/proc/self'))(
    'ends under /proc, where mkdir({ recursive: true }) would spin forever',
    async () => {
      await expect(ensureDirectory('/proc/atomr-infer-test/state')).rejects.toMatchObject({
        code: 'ENOENT',
      });
    },
  );
});

describe('writeFileAtomically', () => {
  it('replaces the file and leaves no temp file', async () => {
    const file = join(dir, 'deep', 'state.json');
    await writeFileAtomically(file, 'one\n', { what: 'the test file' });
    await writeFileAtomically(file, 'two\n', { what: 'the test file', mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(readdirSync(join(dir, 'deep'))).toEqual(['state.json']);
  });

  it('removes its temp file when the last step fails (here the rename, onto a directory)', async () => {
    const file = join(dir, 'state.json');
    mkdirSync(join(file, 'occupied'), { recursive: true });
    const error = await writeFileAtomically(file, 'x', { what: 'the test file' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateFileError);
    expect((error as StateFileError).message).toContain(`cannot write the test file ${file}: `);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});

describe('appendWhole', () => {
  it('appends, creating the directory', async () => {
    const file = join(dir, 'new', 'results.jsonl');
    await appendWhole(file, 'a\n', { what: 'the results file' });
    await appendWhole(file, 'b\n', { what: 'the results file' });
    expect(readFileSync(file, 'utf8')).toBe('a\nb\n');
  });

  it.skipIf(!existsSync('/dev/full'))(
    'reports a full device (ENOSPC, via /dev/full) as one line',
    async () => {
      const file = join(dir, 'results.jsonl');
      symlinkSync('/dev/full', file);
      const error = await appendWhole(file, 'a\n', { what: 'the results file' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateFileError);
      expect((error as StateFileError).message).toBe(
        `cannot write the results file ${file}: no space is left on the device (ENOSPC)`,
      );
    },
  );

  it.skipIf(spawnSync('mkfifo', ['--version']).status !== 0)(
    'refuses a named pipe instead of blocking on it forever',
    async () => {
      const file = join(dir, 'results.jsonl');
      expect(spawnSync('mkfifo', [file]).status).toBe(0);
      const error = await appendWhole(file, 'a\n', { what: 'the results file' }).catch((e: unknown) => e);
      expect((error as StateFileError).message).toBe(
        `cannot write the results file ${file}: it is a named pipe or socket, not a file (EFIFO)`,
      );
    },
  );
});
