import { createHash } from 'node:crypto';
import { lstat, readFile, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pull } from '../../src/hub/pull.js';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { locateGguf, ggufSpecFor } from '../../src/hub/gguf-source.js';
import { gitBlobOid, startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_FILE, GGUF_REPO, VLLM_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from './helpers.js';

let hub: FakeHub;
let home: TempHome;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [vllmRepo(), ggufRepo()] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const sha256File = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('pull into the Python-compatible cache', () => {
  it('writes refs, blobs and relative snapshot symlinks that scanCacheDir accepts', async () => {
    const result = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env: home.env() });
    const commit = hub.commitOf(VLLM_REPO);
    expect(result.commit).toBe(commit);
    expect(result.files.map((file) => file.path).sort()).toEqual([
      'chat_template.jinja',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);

    const scan = await scanCacheDir(home.cacheDir);
    expect(scan.warnings).toEqual([]);
    const repo = scan.repos.find((entry) => entry.id.name === VLLM_REPO);
    expect(repo?.id.type).toBe('model');
    expect(repo?.revisions).toHaveLength(1);
    expect(repo?.revisions[0]?.commitOid).toBe(commit);
    expect(repo?.revisions[0]?.refs).toEqual(['main']);
    expect(repo?.filesCount).toBe(5);

    const repoDir = join(home.cacheDir, 'models--google--gemma-4-E2B-it');
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit); // no trailing newline
    const blobs = (await readdir(join(repoDir, 'blobs'))).sort();
    // LFS files are named by sha256, small files by their git oid (the Hub's ETag), exactly as Python does.
    expect(blobs).toContain(hub.sha256Of(VLLM_REPO, 'model.safetensors'));
    expect(blobs).toContain(gitBlobOid(Buffer.from('{"model_type":"gemma4"}')));
    const pointer = join(repoDir, 'snapshots', commit, 'model.safetensors');
    expect((await lstat(pointer)).isSymbolicLink()).toBe(true);
    expect(await readlink(pointer)).toBe(`../../blobs/${hub.sha256Of(VLLM_REPO, 'model.safetensors')}`);
    expect(await sha256File(pointer)).toBe(hub.sha256Of(VLLM_REPO, 'model.safetensors'));
  });

  it('follows the resolve redirect to the CDN and sends the token to the Hub only', async () => {
    const env = home.env({ HF_TOKEN: hub.token });
    await pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env });
    const cdn = hub.requests.filter((request) => request.kind === 'cdn');
    const hubSide = hub.requests.filter((request) => request.kind !== 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((request) => request.authorization === undefined)).toBe(true);
    expect(hubSide.every((request) => request.authorization === `Bearer ${hub.token}`)).toBe(true);
  });

  it('downloads nothing on a second pull', async () => {
    const first = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    const servedAfterFirst = hub.totalBytesServed();
    expect(first.downloadedBytes).toBe(servedAfterFirst);
    const events: PullEvent[] = [];
    const second = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'llama-cpp',
      env: home.env(),
      onEvent: (event) => events.push(event),
    });
    expect(second.downloadedBytes).toBe(0);
    expect(hub.totalBytesServed()).toBe(servedAfterFirst);
    expect(hub.requests.filter((request) => request.kind !== 'api')).toHaveLength(
      first.files.length * 2, // resolve + CDN for the LFS GGUF, from the first pull only
    );
    const plan = events.find((event) => event.event === 'plan');
    expect(plan?.event === 'plan' && plan.downloadBytes).toBe(0);
  });

  it('picks the catalog quant from the GGUF repo listing, never the projector', async () => {
    const result = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    expect(result.files.map((file) => file.path)).toEqual([GGUF_FILE]);
    expect(result.weights).toEqual({
      kind: 'huggingface',
      repo: GGUF_REPO,
      revision: hub.commitOf(GGUF_REPO),
      file: GGUF_FILE,
    });
    const located = locateGguf(ggufSpecFor('google/gemma-4-E2B-it', undefined), home.cacheDir);
    expect(located?.path).toBe(result.ggufPath);
    expect(await sha256File(result.ggufPath ?? '')).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('honours the ATOMR_INFER_GEMMA_GGUF quant and file overrides', async () => {
    const byQuant = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'llama-cpp',
      ggufOverride: `hf:${GGUF_REPO}:Q8_0`,
      env: home.env(),
    });
    expect(byQuant.files.map((file) => file.path)).toEqual(['gemma-4-E2B-it-Q8_0.gguf']);
    await expect(
      pull({
        model: 'google/gemma-4-E2B-it',
        runtime: 'llama-cpp',
        ggufOverride: `hf:${GGUF_REPO}/missing-Q2_K.gguf`,
        env: home.env(),
      }),
    ).rejects.toMatchObject({
      code: 'hub-gguf-not-found',
      exitCode: 4,
      message: expect.stringContaining(GGUF_REPO),
    });
  });

  it('resolves a branch to its commit and pins the weights to the commit', async () => {
    const commit = hub.commitOf(VLLM_REPO);
    const byCommit = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'vllm',
      revision: commit,
      env: home.env(),
    });
    expect(byCommit.weights).toEqual({ kind: 'huggingface', repo: VLLM_REPO, revision: commit });
    // A commit revision writes no ref, like Python.
    const refs = await readdir(join(home.cacheDir, 'models--google--gemma-4-E2B-it', 'refs')).catch(() => []);
    expect(refs).toEqual([]);
  });
});
