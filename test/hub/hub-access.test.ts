import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomrError } from '../../src/core/errors.js';
import { pull, type PullOptions } from '../../src/hub/pull.js';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_REPO, VLLM_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from './helpers.js';

let hub: FakeHub;
let home: TempHome;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [vllmRepo({ gated: true }), ggufRepo()] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, attempts: 2 };

function vllmPull(env: NodeJS.ProcessEnv, extra: Partial<PullOptions> = {}): ReturnType<typeof pull> {
  return pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env, retry: FAST_RETRY, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<AtomrError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AtomrError)) throw new Error(`expected an AtomrError, got ${String(error)}`);
  return error;
}

describe('gated repos and tokens', () => {
  it('explains a gated repo without a token: the page to accept the license and HF_TOKEN', async () => {
    const error = await failure(vllmPull(home.env()));
    expect(error.exitCode).toBe(4);
    expect(error.code).toBe('hub-gated');
    expect(error.message).toBe(`${VLLM_REPO} is gated and no Hugging Face token is set (HTTP 401)`);
    expect(error.hint).toContain(`${hub.url}/${VLLM_REPO}`);
    expect(error.hint).toContain('HF_TOKEN');
  });

  it('says the token lacks access on 403, without ever showing the token', async () => {
    const wrong = 'hf_wrongTokenWrongToken0123456789abcd';
    const error = await failure(vllmPull(home.env({ HF_TOKEN: wrong })));
    expect(error.code).toBe('hub-gated');
    expect(error.message).toContain('the token in HF_TOKEN lacks access');
    expect(`${error.message} ${error.hint ?? ''} ${error.stack ?? ''}`).not.toContain(wrong);
  });

  it('downloads a gated repo with a token that has access', async () => {
    const result = await vllmPull(home.env({ HF_TOKEN: hub.token }));
    expect(result.files.length).toBeGreaterThan(0);
  });
});

describe('missing repos, files and revisions', () => {
  it('names the repo that does not exist', async () => {
    const error = await failure(
      pull({
        model: 'google/gemma-4-E2B-it',
        runtime: 'llama-cpp',
        ggufOverride: 'hf:nobody/missing-GGUF',
        env: home.env(),
      }),
    );
    expect(error.code).toBe('hub-repo-not-found');
    expect(error.message).toContain('nobody/missing-GGUF');
  });

  it('names the revision that does not exist', async () => {
    const error = await failure(vllmPull(home.env({ HF_TOKEN: hub.token }), { revision: 'v9' }));
    expect(error.code).toBe('hub-revision-not-found');
    expect(error.message).toContain('"v9"');
  });

  it('names repo and file when a listed file is gone', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'status', status: 404, errorCode: 'EntryNotFound' } });
    const error = await failure(
      pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() }),
    );
    expect(error.code).toBe('hub-file-not-found');
    expect(error.message).toMatch(
      /file gemma-4-E2B-it-Q4_K_M\.gguf not found in ggml-org\/gemma-4-E2B-it-GGUF/,
    );
  });
});

describe('offline and unreachable Hub', () => {
  it('HF_HUB_OFFLINE=1 uses the cache without a single request', async () => {
    const online = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    const before = hub.requests.length;
    const offline = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'llama-cpp',
      env: home.env({ HF_HUB_OFFLINE: '1' }),
    });
    expect(hub.requests.length).toBe(before);
    expect(offline.offline).toBe(true);
    expect(offline.ggufPath).toBe(online.ggufPath);
    expect(offline.weights).toEqual(online.weights);
  });

  it('HF_HUB_OFFLINE=1 without the weights cached is a clear model error', async () => {
    const error = await failure(
      pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env({ HF_HUB_OFFLINE: '1' }) }),
    );
    expect(error.exitCode).toBe(4);
    expect(error.code).toBe('not-cached');
    expect(error.message).toContain(GGUF_REPO);
    expect(error.message).toContain('HF_HUB_OFFLINE=1');
    expect(hub.requests).toHaveLength(0);
  });

  it('falls back to the cache when the Hub cannot be reached, and says so', async () => {
    await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    await hub.close();
    const events: PullEvent[] = [];
    const result = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'llama-cpp',
      env: home.env(),
      retry: FAST_RETRY,
      onEvent: (event) => events.push(event),
    });
    expect(result.offline).toBe(true);
    expect(events.find((event) => event.event === 'notice')).toMatchObject({
      message: expect.stringContaining('using the cached snapshot'),
    });
    const error = await failure(vllmPull(home.env()));
    expect(error.code).toBe('hub-unreachable');
    expect(error.message).toContain(hub.url);
  });
});
