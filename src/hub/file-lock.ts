import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { sleep } from '../core/retry.js';

/**
 * A per-blob lock file (`<cache>/.locks/<repo folder>/<blob>.lock`, where Python's huggingface_hub puts its
 * own). Node has no flock(), so ownership is the file's content: `{pid, host}`, published atomically with
 * link() (fails if the lock exists). A lock whose process is gone — or an empty file, which is what Python's
 * filelock leaves behind after it releases — is stale and taken over. Taking over moves the stale file aside
 * first and checks it really was the stale one, so two waiters cannot both break the same lock.
 */

interface LockOwner {
  pid: number;
  host: string;
}

export interface FileLock {
  release(): Promise<void>;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Called once, when the lock is held by another live process and we start waiting. */
  onWait?: () => void;
  pollMs?: number;
}

const HOST = hostname();

export async function acquireFileLock(path: string, options: AcquireOptions = {}): Promise<FileLock> {
  await mkdir(dirname(path), { recursive: true });
  const mine = JSON.stringify({ pid: process.pid, host: HOST, tool: 'atomr-infer' });
  let waited = false;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (await tryCreate(path, mine)) return { release: () => releaseIfMine(path, mine) };
    const content = await readFile(path, 'utf8').catch(() => undefined);
    if (content === undefined) continue; // released between our link() and readFile(): try again at once
    if (isStale(content)) {
      await breakStale(path, content);
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    await sleep(options.pollMs ?? 100, options.signal);
  }
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, content);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function parseOwner(content: string): LockOwner | undefined {
  try {
    const value = JSON.parse(content) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string')
      return { pid: value.pid, host: value.host };
  } catch {
    // not ours: an empty file left by Python's filelock, or garbage
  }
  return undefined;
}

function isStale(content: string): boolean {
  const owner = parseOwner(content);
  if (!owner) return true;
  // Another host sharing the cache over NFS: we cannot see its processes, so trust the lock.
  if (owner.host !== HOST) return false;
  return !isAlive(owner.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function breakStale(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await rename(path, aside);
  } catch {
    return; // somebody else moved or released it: just retry acquiring
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleContent);
  if (moved !== staleContent) {
    // We raced another waiter and moved a fresh lock: put it back unless someone already took the slot.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function releaseIfMine(path: string, mine: string): Promise<void> {
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === mine) await unlink(path).catch(() => undefined);
}
