import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock, type AcquireOptions } from '../../src/hub/file-lock.js';

/**
 * The per-blob lock is what keeps two pulls of the same model (two terminals, or `pull` beside `chat`) from
 * writing one blob at once, and what lets a pull go on after another one crashed. Each test checks one of
 * those outcomes through the lock file itself, without timing anything.
 */

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomr-lock-'));
  path = join(dir, 'blob.lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that surely belongs to no running process: a child that has already exited (`true`: it starts fast). */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (!pid) throw new Error('could not start a child process');
  return pid;
}

/** A live process on this host that is not us (the one that started this test run). */
const LIVE_OTHER_PID = process.ppid;

const owner = (pid: number, host = hostname()): string => JSON.stringify({ pid, host });

/**
 * Starts acquiring; `waiting` resolves once the locker reports that the lock is held and it waits, and rejects
 * if it took the lock instead.
 */
function acquireAndReportWait(options: AcquireOptions = {}) {
  let markWaiting!: () => void;
  const reported = new Promise<void>((resolve) => (markWaiting = resolve));
  const lock = acquireFileLock(path, { pollMs: 5, ...options, onWait: markWaiting });
  const tookIt = lock.then(
    () => Promise.reject(new Error('took the lock instead of waiting')),
    () => undefined,
  );
  return { lock, waiting: Promise.race([reported, tookIt]) };
}

describe('per-blob lock files', () => {
  it('serialises concurrent holders: read-modify-write sections under the lock lose no update', async () => {
    const counter = join(dir, 'counter');
    await writeFile(counter, '0');
    let holders = 0;
    let mostHolders = 0;
    const increment = async (): Promise<void> => {
      const lock = await acquireFileLock(path, { pollMs: 2 });
      holders++;
      mostHolders = Math.max(mostHolders, holders);
      const value = Number(await readFile(counter, 'utf8'));
      // Yield between the read and the write: without the lock, the others read the same value meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
      await writeFile(counter, String(value + 1));
      holders--;
      await lock.release();
    };
    await Promise.all(Array.from({ length: 6 }, increment));
    expect(await readFile(counter, 'utf8')).toBe('6');
    expect(mostHolders).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('a second locker waits while the first holds the lock, and gets it once the first releases', async () => {
    const first = await acquireFileLock(path);
    let acquired = false;
    const second = acquireAndReportWait();
    void second.lock.then(() => (acquired = true));
    await second.waiting;
    expect(acquired).toBe(false);
    await first.release();
    const lock = await second.lock;
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose process is gone, without waiting', async () => {
    await writeFile(path, owner(deadPid()));
    let waited = false;
    const lock = await acquireFileLock(path, { pollMs: 5, onWait: () => (waited = true) });
    expect(waited).toBe(false);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over the empty lock file Python leaves behind, in a folder it creates', async () => {
    const nested = join(dir, 'sub', 'blob.lock');
    await mkdir(join(dir, 'sub'));
    await writeFile(nested, '');
    let waited = false;
    const lock = await acquireFileLock(nested, { pollMs: 5, onWait: () => (waited = true) });
    expect(waited).toBe(false);
    expect(JSON.parse(await readFile(nested, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(existsSync(nested)).toBe(false);
  });

  it.each([
    ['another live process on this host', () => owner(LIVE_OTHER_PID)],
    [
      'a process on another host (a shared cache: its pids are not ours to check)',
      () => owner(deadPid(), 'some-other-host'),
    ],
  ])('waits for a lock held by %s, and leaves it in place when aborted', async (_what, content) => {
    const held = content();
    await writeFile(path, held);
    const controller = new AbortController();
    const { lock, waiting } = acquireAndReportWait({ signal: controller.signal });
    await waiting;
    controller.abort(new Error('stop waiting'));
    await expect(lock).rejects.toThrow('stop waiting');
    expect(await readFile(path, 'utf8')).toBe(held);
  });

  it('release never deletes a lock that another process holds by then', async () => {
    const lock = await acquireFileLock(path);
    // Our lock was broken and re-taken meanwhile (say we were suspended and looked dead to another host).
    await writeFile(path, owner(LIVE_OTHER_PID));
    await lock.release();
    expect(await readFile(path, 'utf8')).toBe(owner(LIVE_OTHER_PID));
  });
});
