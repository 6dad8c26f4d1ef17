import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pull, type PullOptions } from '../../src/hub/pull.js';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_FILE, GGUF_REPO, ggufRepo, tempHome, type TempHome } from './helpers.js';

const SIZE = 4_000_000;
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

const blobDir = (): string => join(home.cacheDir, 'models--ggml-org--gemma-4-E2B-it-GGUF', 'blobs');
const partialPath = (): string => join(blobDir(), `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.incomplete`);
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

function ggufPull(extra: Partial<PullOptions> = {}): Promise<Awaited<ReturnType<typeof pull>>> {
  return pull({
    model: 'google/gemma-4-E2B-it',
    runtime: 'llama-cpp',
    env: home.env(),
    retry: FAST_RETRY,
    ...extra,
  });
}

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('pull survives interruptions', () => {
  it('resumes an interrupted pull with Range on the next run without fetching bytes twice', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'drop', afterBytes: 1_500_000 } });
    await expect(ggufPull({ retry: { attempts: 1 } })).rejects.toThrow();
    expect((await stat(partialPath())).size).toBe(1_500_000);

    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(result.downloadedBytes).toBe(SIZE - 1_500_000);
    expect(hub.requests.filter((r) => r.kind === 'cdn').map((r) => r.range)).toEqual([
      undefined,
      'bytes=1500000-',
    ]);
    expect(events.find((event) => event.event === 'file-start')).toMatchObject({ offset: 1_500_000 });
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('reconnects within the same run when the connection drops mid-file', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'drop', afterBytes: 1_000_000 }, times: 2 });
    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    expect(events.filter((event) => event.event === 'retry')).toHaveLength(2);
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('drops a stalled connection and resumes where it stalled', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: 700_000 } });
    const events: PullEvent[] = [];
    const result = await ggufPull({ idleTimeoutMs: 300, onEvent: (event) => events.push(event) });
    expect(events.find((event) => event.event === 'retry')).toMatchObject({ reason: 'stalled' });
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('detects a corrupted partial blob and fetches the file again', async () => {
    await mkdir(blobDir(), { recursive: true });
    await writeFile(partialPath(), Buffer.alloc(1_000_000, 7));
    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    expect(events.some((event) => event.event === 'corrupt-partial')).toBe(true);
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE - 1_000_000 + SIZE);
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('starts over when the server ignores Range', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'drop', afterBytes: 500_000 } });
    await expect(ggufPull({ retry: { attempts: 1 } })).rejects.toThrow();
    hub.fail({ on: 'cdn', fault: { kind: 'ignore-range' } });
    const result = await ggufPull();
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
    expect((await stat(result.ggufPath ?? '')).size).toBe(SIZE);
  });

  it('lets two concurrent pulls of the same model share one download', async () => {
    const [first, second] = await Promise.all([ggufPull(), ggufPull()]);
    expect(first.ggufPath).toBe(second.ggufPath);
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(first.downloadedBytes + second.downloadedBytes).toBe(SIZE);
    expect(await sha256Of(first.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('retries 429 and 5xx answers, honouring Retry-After', async () => {
    hub.fail({ on: 'api', fault: { kind: 'status', status: 429, retryAfter: '0' } });
    hub.fail({ on: 'cdn', fault: { kind: 'status', status: 503 } });
    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    expect(events.filter((event) => event.event === 'retry').length).toBeGreaterThanOrEqual(1);
    expect(await sha256Of(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('gives up on a persistent 500 with a one-line model error', async () => {
    hub.fail({ on: 'api', fault: { kind: 'status', status: 500 }, times: Infinity });
    await expect(ggufPull({ retry: { ...FAST_RETRY, attempts: 3 } })).rejects.toMatchObject({
      exitCode: 4,
      code: 'hub-http-error',
      message: expect.stringMatching(/HTTP 500.*ggml-org\/gemma-4-E2B-it-GGUF/),
    });
    expect(hub.requests.filter((request) => request.kind === 'api')).toHaveLength(3);
  });

  it('refuses to start when the free disk is smaller than the real download', async () => {
    await expect(ggufPull({ freeBytes: async () => SIZE - 1 })).rejects.toMatchObject({
      exitCode: 3,
      code: 'disk-space',
      message: expect.stringContaining('4.0 MB to download'),
    });
    expect(hub.totalBytesServed()).toBe(0);
  });
});
