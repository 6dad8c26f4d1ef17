import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { startForwardProxy, type ForwardProxy } from '../fakes/hub/forward-proxy.js';
import { runCli } from '../hub/cli.js';
import { ggufRepo, tempHome, type TempHome } from '../hub/helpers.js';

/**
 * The Hub client's environment as a user sets it, through the built CLI: a proxy (and nothing on stderr about
 * how it is implemented), a misconfigured HF_ENDPOINT, a CDN refusing the download, the Hub's rate limit.
 */

let hub: FakeHub;
let home: TempHome;
let proxy: ForwardProxy | undefined;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [ggufRepo({}, 500_000)] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await hub.close();
  await home.cleanup();
});

const PULL = ['pull', '--model', 'google/gemma-4-E2B-it', '--runtime', 'llama-cpp'];

/** stderr as a user reads it: no Node warning, no stack trace. */
function expectCleanStderr(stderr: string): void {
  expect(stderr).not.toMatch(/Warning|experimental|\n\s+at /);
}

describe('pull and the Hub environment', () => {
  it('HTTPS_PROXY/HTTP_PROXY: the download goes through the proxy, and stderr says nothing about it', async () => {
    proxy = await startForwardProxy();
    const result = await runCli(PULL, home.env({ HTTP_PROXY: proxy.url }));
    expect(result.stderr).toContain('verified');
    expect(result.code).toBe(0);
    expect(proxy.relayed).toContain(new URL(hub.url).host);
    expectCleanStderr(result.stderr);
  });

  it('an HF_ENDPOINT that is not a URL: exit 2, one line naming it', async () => {
    const result = await runCli(PULL, home.env({ HF_ENDPOINT: 'huggingface.co' }));
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'atomr-infer: HF_ENDPOINT="huggingface.co" is not valid: expected an http(s) URL (e.g. https://huggingface.co)',
    );
    expect(lines.slice(1).every((line) => line.startsWith('hint: '))).toBe(true);
  });

  it('a CDN answering 403: exit 4 naming the CDN, and no word of a gated repo or a token', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'foreign-status', status: 403 }, times: Infinity });
    const result = await runCli(PULL, home.env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`the download server ${new URL(hub.cdnUrl).host}`);
    expect(result.stderr).not.toMatch(/gated|license|HF_TOKEN/);
    expectCleanStderr(result.stderr);
  });

  it('429 with RateLimit r=0: the progress output says it waits for the rate limit, then the pull finishes', async () => {
    hub.fail({ on: 'api', fault: { kind: 'status', status: 429, rateLimit: '"api";r=0;t=0' } });
    const result = await runCli(PULL, home.env());
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/retrying .* in 1\.0s .*"api" rate limit is used up; it resets in 0 s/);
  });
});
