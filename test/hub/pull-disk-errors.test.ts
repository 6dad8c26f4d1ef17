import { mkdir, stat, symlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, SkippedError } from '../../src/core/errors.js';
import { AppendWriter } from '../../src/hub/append-writer.js';
import { cacheWriteError } from '../../src/hub/cache-errors.js';
import { pull } from '../../src/hub/pull.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_FILE, GGUF_REPO, ggufRepo, tempHome, type TempHome } from './helpers.js';

/**
 * A full disk, a quota, a file-size limit or a cache that cannot be written, during `pull` (issue 9, item 8):
 * one line with the right exit code, and the partial download kept. The real-kernel cases (ENOSPC from
 * /dev/full, EFBIG from `ulimit -f`, ENOTDIR) run end to end in test/e2e/hostile/hub.test.ts; EDQUOT, EROFS and
 * EACCES cannot be produced without root-only mounts (and root ignores permissions), so their mapping is checked
 * here with the errors the kernel would give.
 */

const SIZE = 1_000_000;
let hub: FakeHub;
let home: TempHome;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [ggufRepo({}, SIZE)] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const facts = { repo: GGUF_REPO, cacheDir: '/cache', downloadBytes: 5_300_000_000, freeBytes: 120_000_000 };
const errno = (code: string, extra: Record<string, string> = {}): Error =>
  Object.assign(new Error(`${code}: failed`), { code, ...extra });

describe('what a failed write in the cache means', () => {
  it.each(['ENOSPC', 'EDQUOT'])(
    '%s: exit 3 disk-space, worded as the pre-check, the partial kept',
    (code) => {
      const error = cacheWriteError(errno(code), facts);
      expect(error).toBeInstanceOf(SkippedError);
      expect(error).toMatchObject({ exitCode: 3, code: 'disk-space' });
      expect(error?.message).toMatch(
        /^not enough free disk for ggml-org\/gemma-4-E2B-it-GGUF: 5\.3 GB to download, 120 MB free at \/cache/,
      );
      expect(error?.hint).toContain('the partial download is kept');
    },
  );

  it('EFBIG: exit 3 file-too-large, naming the limits that cause it', () => {
    const error = cacheWriteError(errno('EFBIG'), facts);
    expect(error).toMatchObject({ exitCode: 3, code: 'file-too-large' });
    expect(error?.message).toMatch(/file too large .*ulimit -f/);
  });

  it.each([
    ['EROFS', 'read-only file system'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['ENOTDIR', 'is a file, not a directory'],
  ])('%s: exit 2 cache-not-writable, naming the path', (code, words) => {
    const error = cacheWriteError(errno(code, { path: '/cache/models--x/blobs/abc' }), facts);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ exitCode: 2, code: 'cache-not-writable' });
    expect(error?.message).toMatch(
      /^cannot write to the Hugging Face cache at \/cache\/models--x\/blobs\/abc: /,
    );
    expect(error?.message).toContain(`${words} (${code})`);
    expect(error?.hint).toContain('HF_HUB_CACHE');
  });

  it('EEXIST from mkdir is a file in the way; other errors are not disk errors', () => {
    expect(cacheWriteError(errno('EEXIST', { syscall: 'mkdir', path: '/cache' }), facts)).toMatchObject({
      exitCode: 2,
    });
    expect(cacheWriteError(errno('EEXIST', { syscall: 'link' }), facts)).toBeUndefined();
    expect(cacheWriteError(errno('ECONNRESET'), facts)).toBeUndefined();
    expect(cacheWriteError('not an error', facts)).toBeUndefined();
  });
});

describe('pull when the disk fills up', () => {
  it('ENOSPC from the kernel mid-download rejects with disk-space, the pre-check message', async () => {
    const blobs = join(home.cacheDir, 'models--ggml-org--gemma-4-E2B-it-GGUF', 'blobs');
    await mkdir(blobs, { recursive: true });
    await symlink('/dev/full', join(blobs, `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.incomplete`));
    const error = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkippedError);
    expect(error).toMatchObject({ code: 'disk-space', exitCode: 3 });
    expect((error as Error).message).toMatch(
      /^not enough free disk for ggml-org\/gemma-4-E2B-it-GGUF: 1\.0 MB to download/,
    );
  });

  it('the pre-check says the same before anything is downloaded', async () => {
    const error = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'llama-cpp',
      env: home.env(),
      freeBytes: async () => 1000,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `not enough free disk for ${GGUF_REPO}: 1.0 MB to download, 1.0 kB free at ${home.cacheDir}`,
    );
    await expect(
      stat(join(home.cacheDir, 'models--ggml-org--gemma-4-E2B-it-GGUF', 'blobs')),
    ).rejects.toThrow();
  });
});

/** A FileHandle stand-in whose writev accepts at most `accept` more bytes in all, then fails as a full disk does. */
function diskWith(accept: number, failWith = 'ENOSPC', perCall = Infinity) {
  const written: Buffer[] = [];
  let left = accept;
  const handle = {
    async writev(buffers: Buffer[]) {
      const wanted = Buffer.concat(buffers);
      if (left === 0) throw errno(failWith);
      const take = Math.min(wanted.length, left, perCall);
      written.push(wanted.subarray(0, take));
      left -= take;
      return { bytesWritten: take, buffers };
    },
  } as unknown as FileHandle;
  return { handle, written: () => Buffer.concat(written) };
}

describe('AppendWriter and short writes', () => {
  const chunk = (n: number, byte: number): Buffer => Buffer.alloc(n, byte);

  it('writes the rest after a short write, so the file never misses bytes', async () => {
    const disk = diskWith(Infinity, 'ENOSPC', 3);
    const writer = new AppendWriter(disk.handle);
    await writer.push(chunk(5, 1));
    await writer.push(chunk(4, 2));
    await writer.flush();
    expect(disk.written()).toEqual(Buffer.concat([chunk(5, 1), chunk(4, 2)]));
    expect(writer.written).toBe(9);
  });

  it('a short write followed by ENOSPC: the accepted prefix is on disk, flush reports ENOSPC', async () => {
    const disk = diskWith(7);
    const writer = new AppendWriter(disk.handle);
    await writer.push(chunk(5, 1)).catch(() => undefined);
    await writer.push(chunk(5, 2)).catch(() => undefined);
    await expect(writer.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(disk.written()).toEqual(Buffer.concat([chunk(5, 1), chunk(2, 2)]));
  });
});
