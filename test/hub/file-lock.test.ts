import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock } from '../../src/hub/file-lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomr-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that surely belongs to no running process: a child that has already exited. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

describe('per-blob lock files', () => {
  it('serialises two holders: the second waits until the first releases', async () => {
    const path = join(dir, 'blob.lock');
    const first = await acquireFileLock(path);
    let waited = false;
    let acquired = false;
    const second = acquireFileLock(path, { pollMs: 10, onWait: () => (waited = true) }).then((lock) => {
      acquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(waited).toBe(true);
    expect(acquired).toBe(false);
    await first.release();
    await (await second).release();
    expect(acquired).toBe(true);
  });

  it('takes over a lock whose process is gone', async () => {
    const path = join(dir, 'blob.lock');
    await writeFile(path, JSON.stringify({ pid: Number(deadPid()), host: hostname() }));
    const lock = await acquireFileLock(path, { pollMs: 10 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over the empty lock file Python leaves behind', async () => {
    const path = join(dir, 'sub', 'blob.lock');
    await mkdir(join(dir, 'sub'));
    await writeFile(path, '');
    const lock = await acquireFileLock(path, { pollMs: 10 });
    await lock.release();
  });

  it('stops waiting when aborted', async () => {
    const path = join(dir, 'blob.lock');
    const held = await acquireFileLock(path);
    const controller = new AbortController();
    const waiting = acquireFileLock(path, { pollMs: 10, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await held.release();
  });
});
