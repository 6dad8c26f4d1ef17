import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { jsonLines, runCli, startCli } from '../hub/cli.js';
import { GGUF_FILE, GGUF_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from '../hub/helpers.js';

const SIZE = 3_000_000;
let hub: FakeHub;
let home: TempHome;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [vllmRepo({ gated: true }), ggufRepo({}, SIZE)] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const PULL = ['pull', '--model', 'google/gemma-4-E2B-it', '--runtime', 'llama-cpp'];
const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
const partial = (): string =>
  join(
    home.cacheDir,
    'models--ggml-org--gemma-4-E2B-it-GGUF',
    'blobs',
    `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.incomplete`,
  );

async function waitForSize(path: string, bytes: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size >= bytes) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${path} never reached ${bytes} bytes`);
}

describe('atomr-infer pull', () => {
  it('prints only the GGUF path on stdout and plain progress lines on stderr off a terminal', async () => {
    const result = await runCli(PULL, home.env());
    expect(result.stderr).toContain(`pull: ${GGUF_REPO}@${hub.commitOf(GGUF_REPO).slice(0, 8)}: 1 file`);
    expect(result.stderr).toContain(`pull: downloading ${GGUF_FILE}`);
    expect(result.code).toBe(0);
    const path = result.stdout.trim();
    expect(result.stdout).toBe(`${path}\n`);
    expect(path.endsWith(`/snapshots/${hub.commitOf(GGUF_REPO)}/${GGUF_FILE}`)).toBe(true);
    expect(await sha256(path)).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('emits JSON-lines progress events and a result with --json', async () => {
    const result = await runCli([...PULL, '--json'], home.env());
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    expect(events.map((event) => event.event)).toEqual(
      expect.arrayContaining(['plan', 'file-start', 'progress', 'file-done', 'done', 'result']),
    );
    expect(events.at(-1)).toMatchObject({
      event: 'result',
      repo: GGUF_REPO,
      commit: hub.commitOf(GGUF_REPO),
      downloadedBytes: SIZE,
      runtimeChoice: 'flag-or-env',
    });
    const lastProgress = events.filter((event) => event.event === 'progress').at(-1);
    expect(lastProgress).toMatchObject({ totalDone: SIZE, totalBytes: SIZE });
    expect(result.stderr).toBe('');
  });

  it('without --runtime, fetches the weights of the runtime the probe picks', async () => {
    const probe = await runCli(
      ['probe', '--model', 'google/gemma-4-E2B-it', '--json'],
      home.env({ HF_TOKEN: hub.token }),
    );
    const verdict = jsonLines(probe.stdout)[0] as { runtime: string | null };
    const result = await runCli(
      ['pull', '--model', 'google/gemma-4-E2B-it', '--json'],
      home.env({ HF_TOKEN: hub.token }),
    );
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).at(-1)).toMatchObject(
      verdict.runtime === null
        ? { runtime: 'llama-cpp', runtimeChoice: 'fallback' }
        : { runtime: verdict.runtime, runtimeChoice: 'probe' },
    );
  });

  it('continues a killed pull where it stopped', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: 1_200_000 } });
    const first = startCli(PULL, home.env());
    await waitForSize(partial(), 1_200_000);
    first.child.kill('SIGKILL');
    await first.done;

    const second = await runCli(PULL, home.env());
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`resuming ${GGUF_FILE} at 1.2 MB`);
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(await sha256(second.stdout.trim())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('lets two pull processes share one download of the same file', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'throttle', bytesPerSecond: 3_000_000 }, times: Infinity });
    const first = startCli(PULL, home.env());
    await waitForSize(partial(), 300_000);
    const second = startCli(PULL, home.env());
    const [a, b] = await Promise.all([first.done, second.done]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.stderr).toContain(`waiting for another process downloading ${GGUF_FILE}`);
    expect(b.stdout).toBe(a.stdout);
    expect(hub.bytesServed(GGUF_FILE)).toBe(SIZE);
    expect(await sha256(a.stdout.trim())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('stops on Ctrl-C with exit 130 and keeps the partial download', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: 800_000 } });
    const running = startCli(PULL, home.env());
    await waitForSize(partial(), 800_000);
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('run the same command again to resume');
    expect((await stat(partial())).size).toBe(800_000);
  });

  it('explains a gated repo (exit 4) and never prints the token', async () => {
    const token = 'hf_notTheRightTokenButSecret0123456789';
    const result = await runCli(
      ['pull', '--model', 'google/gemma-4-E2B-it', '--runtime', 'vllm', '--json'],
      home.env({ HF_TOKEN: token }),
    );
    expect(result.code).toBe(4);
    const [payload] = jsonLines(result.stdout);
    expect(payload).toMatchObject({ error: { code: 'hub-gated', exitCode: 4 } });
    expect(result.stderr).toContain(`${hub.url}/google/gemma-4-E2B-it`);
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('rejects a malformed --revision with exit 2', async () => {
    const result = await runCli([...PULL, '--revision', 'a b'], home.env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--revision "a b" is not valid');
    expect(hub.requests).toHaveLength(0);
  });

  it('fails clearly offline when nothing is cached (exit 4)', async () => {
    const result = await runCli(PULL, home.env({ HF_HUB_OFFLINE: '1' }));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('HF_HUB_OFFLINE=1');
    expect(result.stdout).toBe('');
  });
});
