import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors.js';
import { pull, type PullOptions } from '../../src/hub/pull.js';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_FILE, GGUF_REPO, VLLM_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from './helpers.js';

/**
 * `pull --verify` (issue 9, item 11): a cached blob damaged at the same size is trusted by size everywhere
 * else, so without it `chat` says "re-download" and `pull` says "already cached" forever.
 */

const SIZE = 1_000_000;
let hub: FakeHub;
let home: TempHome;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [ggufRepo({}, SIZE), vllmRepo()] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const ggufBlob = (): string =>
  join(home.cacheDir, 'models--ggml-org--gemma-4-E2B-it-GGUF', 'blobs', hub.sha256Of(GGUF_REPO, GGUF_FILE));

function ggufPull(extra: Partial<PullOptions> = {}): ReturnType<typeof pull> {
  return pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env(), ...extra });
}

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('pull --verify', () => {
  it('re-fetches a blob damaged at the same size and reports it; plain pull does not notice', async () => {
    await ggufPull();
    await writeFile(ggufBlob(), Buffer.alloc(SIZE, 0x5a));

    const plain = await ggufPull();
    expect(plain.downloadedBytes).toBe(0);
    expect(plain.verified).toBeUndefined();

    const events: PullEvent[] = [];
    const verified = await ggufPull({ verify: true, onEvent: (event) => events.push(event) });
    expect(verified.verified).toEqual({ checked: 1, repaired: [GGUF_FILE] });
    expect(verified.downloadedBytes).toBe(SIZE);
    expect(events).toContainEqual({ event: 'verify', path: GGUF_FILE, size: SIZE, ok: false });
    // The plan reflects the repair: the file is to be downloaded, not cached.
    expect(events.find((event) => event.event === 'plan')).toMatchObject({ downloadBytes: SIZE });
    expect(await sha256(ggufBlob())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('downloads nothing when every cached file is sound', async () => {
    await ggufPull();
    const served = hub.totalBytesServed();
    const result = await ggufPull({ verify: true });
    expect(result.verified).toEqual({ checked: 1, repaired: [] });
    expect(hub.totalBytesServed()).toBe(served);
  });

  it('checks small (non-LFS) files by their git blob id too', async () => {
    const vllm = (extra: Partial<PullOptions> = {}): ReturnType<typeof pull> =>
      pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env: home.env(), ...extra });
    await vllm();
    const tokenizer = join(
      home.cacheDir,
      'models--google--gemma-4-E2B-it',
      'snapshots',
      hub.commitOf(VLLM_REPO),
      'tokenizer.json',
    );
    const size = (await stat(tokenizer)).size;
    await writeFile(tokenizer, Buffer.alloc(size, 0));
    const result = await vllm({ verify: true });
    expect(result.verified?.repaired).toEqual(['tokenizer.json']);
    expect(result.verified?.checked).toBe(result.files.length);
    expect(await sha256(tokenizer)).toBe(hub.sha256Of(VLLM_REPO, 'tokenizer.json'));
  });

  it('offline, a damaged file is an error naming it, and the file is left as it is', async () => {
    await ggufPull();
    await writeFile(ggufBlob(), Buffer.alloc(SIZE, 0x5a));
    const error = await ggufPull({ verify: true, env: home.env({ HF_HUB_OFFLINE: '1' }) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'cache-damaged', exitCode: 4 });
    expect((error as Error).message).toContain(`${GGUF_REPO}/${GGUF_FILE} in the cache is damaged`);
    expect((await stat(ggufBlob())).size).toBe(SIZE);
  });

  it('offline, sound files verify by their blob names alone', async () => {
    await ggufPull();
    const result = await ggufPull({ verify: true, env: home.env({ HF_HUB_OFFLINE: '1' }) });
    expect(result.verified).toEqual({ checked: 1, repaired: [] });
  });
});
