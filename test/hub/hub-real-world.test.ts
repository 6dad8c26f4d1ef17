import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomrError } from '../../src/core/errors.js';
import { hfOffline } from '../../src/core/paths.js';
import { isSafeRepoPath } from '../../src/hub/repo-info.js';
import { createHubClient, pull, type PullOptions } from '../../src/hub/pull.js';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { startForwardProxy, type ForwardProxy } from '../fakes/hub/forward-proxy.js';
import { GGUF_FILE, GGUF_REPO, VLLM_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from './helpers.js';

/**
 * The real Hub's habits, each reproduced by the fake: the RateLimit header on 429, 416 for a partial that no
 * longer fits, a 403 from the CDN (not the Hub), proxies, TRANSFORMERS_OFFLINE, HF_HUB_DISABLE_IMPLICIT_TOKEN.
 */

const SIZE = 2_000_000;
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };
let hub: FakeHub;
let home: TempHome;
let proxy: ForwardProxy | undefined;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [ggufRepo({}, SIZE), vllmRepo({ gated: true })] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await hub.close();
  await home.cleanup();
});

function ggufPull(extra: Partial<PullOptions> = {}): ReturnType<typeof pull> {
  return pull({
    model: 'google/gemma-4-E2B-it',
    runtime: 'llama-cpp',
    env: home.env(),
    retry: FAST_RETRY,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<AtomrError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AtomrError)) throw new Error(`expected an AtomrError, got ${String(error)}`);
  return error;
}

const partialPath = (): string =>
  join(
    home.cacheDir,
    'models--ggml-org--gemma-4-E2B-it-GGUF',
    'blobs',
    `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.incomplete`,
  );

describe('429 with the RateLimit header', () => {
  it('waits the reset time the header gives (t + 1 s) and says it is the rate limit', async () => {
    hub.fail({ on: 'api', fault: { kind: 'status', status: 429, rateLimit: '"api";r=0;t=0' } });
    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    const retry = events.find((event) => event.event === 'retry');
    expect(retry).toMatchObject({ delayMs: 1000, reason: expect.stringMatching(/"api" rate limit/) });
    expect(result.files.length).toBeGreaterThan(0);
  });

  it('a reset beyond the wait bound: one line at once saying when the limit resets, exit 4', async () => {
    hub.fail({ on: 'api', fault: { kind: 'status', status: 429, rateLimit: '"api";r=0;t=3600' } });
    const error = await failure(ggufPull());
    expect(error.exitCode).toBe(4);
    expect(error.code).toBe('hub-rate-limited');
    expect(error.message).toMatch(/"api" rate limit.*resets in 3600 s/);
    expect(error.hint).toContain('HF_TOKEN');
    expect(hub.requests.filter((request) => request.kind === 'api')).toHaveLength(1);
  });
});

describe('416 on a partial download that no longer fits', () => {
  it('discards the partial and downloads the file again from byte 0', async () => {
    await mkdir(join(partialPath(), '..'), { recursive: true });
    await writeFile(partialPath(), Buffer.alloc(SIZE / 2));
    hub.fail({ on: 'cdn', path: GGUF_FILE, fault: { kind: 'status', status: 416 } });
    const events: PullEvent[] = [];
    const result = await ggufPull({ onEvent: (event) => events.push(event) });
    expect(hub.requests.filter((r) => r.kind === 'cdn').map((r) => r.range)).toEqual([
      `bytes=${SIZE / 2}-`,
      undefined,
    ]);
    expect(result.files.find((file) => file.path === GGUF_FILE)?.downloadedBytes).toBe(SIZE);
    expect(events.some((event) => event.event === 'notice' && /HTTP 416/.test(event.message))).toBe(true);
  });
});

describe('a 403 that is not the Hub', () => {
  it('from the CDN a redirect led to: names that host, not "gated", and keeps the partial', async () => {
    hub.fail({ on: 'cdn', path: GGUF_FILE, fault: { kind: 'foreign-status', status: 403 } });
    const error = await failure(ggufPull());
    const cdnHost = new URL(hub.cdnUrl).host;
    expect(error.exitCode).toBe(4);
    expect(error.code).toBe('hub-download-refused');
    expect(error.message).toContain(cdnHost);
    expect(error.message).toContain('HTTP 403');
    expect(`${error.message} ${error.hint ?? ''}`).not.toMatch(/gated|license/i);
  });

  it('on the Hub URL but without the Hub error headers (a proxy, a firewall): not "gated" either', async () => {
    hub.fail({ on: 'api', fault: { kind: 'foreign-status', status: 403 } });
    const error = await failure(ggufPull());
    expect(error.code).toBe('hub-download-refused');
    expect(error.message).toMatch(/HTTP 403.*not from the Hub/);
    expect(`${error.message} ${error.hint ?? ''}`).not.toMatch(/gated|license/i);
  });
});

describe('HTTP_PROXY / HTTPS_PROXY / NO_PROXY', () => {
  it('HTTP_PROXY: the Hub and the CDN it redirects to are both reached through the proxy, the token not sent to the CDN', async () => {
    proxy = await startForwardProxy();
    await ggufPull({ env: home.env({ HTTP_PROXY: proxy.url, HF_TOKEN: hub.token }) });
    // undici tunnels even http:// through the proxy (CONNECT host:port), so the proxy sees hosts, not paths.
    const relayedHosts = proxy.relayed.map((target) =>
      /^https?:/.test(target) ? new URL(target).host : target,
    );
    expect(relayedHosts).toContain(new URL(hub.url).host);
    expect(relayedHosts).toContain(new URL(hub.cdnUrl).host);
    expect(hub.requests.filter((r) => r.kind === 'api').length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => r.kind === 'cdn').every((r) => r.authorization === undefined)).toBe(
      true,
    );
  });

  it('NO_PROXY naming the hosts: nothing goes through the proxy', async () => {
    proxy = await startForwardProxy();
    await ggufPull({ env: home.env({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost' }) });
    expect(proxy.relayed).toEqual([]);
    expect(hub.requests.length).toBeGreaterThan(0);
  });

  it('a proxy that refuses connections: one line naming the Hub, exit 4', async () => {
    const error = await failure(
      ggufPull({
        env: home.env({ HTTP_PROXY: 'http://127.0.0.1:9' }),
        retry: { ...FAST_RETRY, attempts: 1 },
      }),
    );
    expect(error.exitCode).toBe(4);
    expect(error.code).toBe('hub-unreachable');
    expect(error.message).toContain('127.0.0.1:9');
    expect(error.hint).toContain('HTTP_PROXY');
  });
});

describe('TRANSFORMERS_OFFLINE', () => {
  it('counts like HF_HUB_OFFLINE (as huggingface_hub reads it): no request, and the message names it', async () => {
    const error = await failure(ggufPull({ env: home.env({ TRANSFORMERS_OFFLINE: '1' }) }));
    expect(error.code).toBe('not-cached');
    expect(error.message).toContain('TRANSFORMERS_OFFLINE=1');
    expect(hub.requests).toHaveLength(0);
  });

  it('HF_HUB_OFFLINE, when set, wins over it', () => {
    expect(hfOffline({ TRANSFORMERS_OFFLINE: 'true' })).toBe(true);
    expect(hfOffline({ HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' })).toBe(false);
  });
});

describe('HF_HUB_DISABLE_IMPLICIT_TOKEN', () => {
  it('a public repo: the token from HF_TOKEN is never sent', async () => {
    await ggufPull({ env: home.env({ HF_TOKEN: hub.token, HF_HUB_DISABLE_IMPLICIT_TOKEN: '1' }) });
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.every((request) => request.authorization === undefined)).toBe(true);
  });

  it('a gated repo: asked without the token first, then with it, and the download works', async () => {
    const result = await pull({
      model: 'google/gemma-4-E2B-it',
      runtime: 'vllm',
      env: home.env({ HF_TOKEN: hub.token, HF_HUB_DISABLE_IMPLICIT_TOKEN: '1' }),
      retry: FAST_RETRY,
    });
    expect(result.repo).toBe(VLLM_REPO);
    const api = hub.requests.filter((request) => request.kind === 'api');
    expect(api.map((request) => request.authorization)).toEqual([undefined, `Bearer ${hub.token}`]);
  });
});

describe('repo file names and HF_ENDPOINT', () => {
  it('refuses drive, UNC and root forms as well as `..`', () => {
    for (const name of ['C:/Windows/x', 'D:foo', '//server/share/x', '/etc/passwd', 'a/../b', 'a\\..\\b']) {
      expect(isSafeRepoPath(name), name).toBe(false);
    }
    expect(isSafeRepoPath('gemma-4-E2B-it-Q4_K_M.gguf')).toBe(true);
    expect(isSafeRepoPath('original/tokenizer.model')).toBe(true);
  });

  it('an HF_ENDPOINT that is not an http(s) URL is a one-line config error (exit 2) naming it', () => {
    for (const endpoint of ['huggingface.co', 'ftp://mirror.example']) {
      let caught: unknown;
      try {
        createHubClient({ HF_ENDPOINT: endpoint });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AtomrError);
      expect((caught as AtomrError).exitCode).toBe(2);
      expect((caught as AtomrError).message).toContain(`HF_ENDPOINT=${JSON.stringify(endpoint)}`);
    }
  });
});
