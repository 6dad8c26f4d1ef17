import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { buildTinyGguf } from '../helpers/gguf/index.mjs';
import { runCli, startCli } from '../hub/cli.js';
import { GGUF_FILE, GGUF_REPO, tempHome, type TempHome } from '../hub/helpers.js';

/**
 * Download on demand (issue 11 item 3): a catalog model named on the command line that is not cached yet is
 * fetched with pull's machinery and progress display, then runs — on a fresh HF_HOME, with no token and no
 * other command first. The loopback fake Hub serves a tiny generated Gemma 4 GGUF under the catalog's repo.
 */

const MODEL = 'google/gemma-4-E2B-it';
let tinyGemma4: Buffer;
let hub: FakeHub;
let home: TempHome;

beforeAll(() => {
  tinyGemma4 = buildTinyGguf({ arch: 'gemma4', seed: 5 });
});

beforeEach(async () => {
  hub = await startFakeHub({
    repos: [
      {
        id: GGUF_REPO,
        files: [
          { path: GGUF_FILE, content: tinyGemma4 },
          { path: 'mmproj-gemma-4-E2B-it-f16.gguf', content: Buffer.alloc(4_000, 1) },
          { path: 'README.md', content: Buffer.from('# gguf') },
        ],
      },
    ],
  });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

/** A fresh machine: HF_HOME only (no HF_HUB_CACHE, no token), so the cache lands in $HF_HOME/hub like Python's. */
function freshEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { HF_HUB_CACHE: _cache, ...env } = home.env(extra);
  return env;
}

const hfHub = (): string => join(home.dir, 'hf-home', 'hub');
const repoDir = (): string => join(hfHub(), 'models--ggml-org--gemma-4-E2B-it-GGUF');
const snapshotFile = (): string => join(repoDir(), 'snapshots', hub.commitOf(GGUF_REPO), GGUF_FILE);
const partial = (): string => join(repoDir(), 'blobs', `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.incomplete`);
const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'));

async function waitForSize(path: string, bytes: number, timeoutMs = 20_000): Promise<void> {
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

const CHAT = ['chat', '--model', MODEL, '--prompt', 'hi', '--threads', '1', '--max-tokens', '4'];

describe('download on demand: a catalog model named on the command line', () => {
  it('chat --model <id> --prompt on a fresh HF_HOME downloads the GGUF with progress, then answers', async () => {
    const result = await runCli(CHAT, freshEnv(), 60_000);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).not.toBe('');
    expect(result.stderr).toContain(`chat: downloading ${GGUF_FILE}`);
    expect(result.stderr).toContain(`chat: ${GGUF_REPO}@${hub.commitOf(GGUF_REPO).slice(0, 8)}: 1 file`);
    // Python's layout under HF_HOME: the snapshot file, the blob it points to, refs/main.
    expect(await sha256(snapshotFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
    expect(await readFile(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(hub.commitOf(GGUF_REPO));
    expect(hub.requests.every((request) => request.authorization === undefined)).toBe(true);
    expect(hub.bytesServed('mmproj-gemma-4-E2B-it-f16.gguf')).toBe(0);

    // The second run finds it cached: no download, no progress.
    const again = await runCli(CHAT, freshEnv(), 60_000);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('downloading');
    expect(hub.bytesServed(GGUF_FILE)).toBe(tinyGemma4.length);
  });

  it('bench --model <id> downloads too, then measures', async () => {
    const args = ['bench', '--model', MODEL, '--threads', '1', '--concurrency', '1', '--requests', '1'];
    const result = await runCli([...args, '--max-tokens', '2', '--json'], freshEnv(), 60_000);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`bench: downloading ${GGUF_FILE}`);
    expect(JSON.parse(result.stdout)).toMatchObject({ model: MODEL, runtime: 'llama-cpp' });
    expect(existsSync(snapshotFile())).toBe(true);
  });

  it('serve --model <id> downloads too, then serves it', async () => {
    const running = startCli(
      ['serve', '--model', MODEL, '--threads', '1', '--port', '0', '--log-format', 'json'],
      freshEnv(),
      60_000,
    );
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      running.child.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        for (const line of seen.split('\n')) {
          if (!line.startsWith('{')) continue; // the download's progress lines come before the JSON logs
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'serving' && entry.url) resolve(entry.url);
        }
      });
      void running.done.then((done) => reject(new Error(`serve ended early (${done.code}): ${done.stderr}`)));
    });
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((model) => model.id)).toContain(MODEL);
    running.child.kill('SIGTERM');
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`serve: downloading ${GGUF_FILE}`);
    expect(await sha256(snapshotFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it.each(['off', 'skip-quietly'])(
    'ATOMR_INFER_GEMMA_AUTO=%s forbids the download: exit 3 naming the variable, nothing fetched',
    async (value) => {
      const result = await runCli(CHAT, freshEnv({ ATOMR_INFER_GEMMA_AUTO: value }));
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      const lines = errorLines(result.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`ATOMR_INFER_GEMMA_AUTO=${value}`);
      expect(lines[0]).toContain(`${MODEL} is not downloaded yet`);
      expect(result.stderr).toContain(`atomr-infer pull --model ${MODEL}`);
      expect(hub.requests).toHaveLength(0);
      expect(existsSync(hfHub())).toBe(false);
    },
  );

  it('HF_HUB_OFFLINE=1 with nothing cached is one clear line, exit 4, no request', async () => {
    const result = await runCli(CHAT, freshEnv({ HF_HUB_OFFLINE: '1' }));
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('HF_HUB_OFFLINE=1');
    expect(lines[0]).toContain(GGUF_REPO);
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
    expect(hub.requests).toHaveLength(0);
  });

  it('Ctrl-C during the download exits 130 and keeps the partial file; the next run resumes it', async () => {
    const half = Math.floor(tinyGemma4.length / 2);
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: half } });
    const running = startCli(CHAT, freshEnv());
    await waitForSize(partial(), half);
    running.child.kill('SIGINT');
    const stopped = await running.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('run the same command again to resume the download');
    expect(stopped.stdout).toBe('');
    expect((await stat(partial())).size).toBe(half);

    const resumed = await runCli(CHAT, freshEnv(), 60_000);
    expect(errorLines(resumed.stderr)).toEqual([]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${GGUF_FILE}`);
    expect(hub.bytesServed(GGUF_FILE)).toBe(tinyGemma4.length);
    expect(await sha256(snapshotFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
    expect(readdirSync(join(repoDir(), 'blobs')).some((name) => name.endsWith('.incomplete'))).toBe(false);
  });
});

describe('download on demand: the default model, which nobody named', () => {
  // The default deployment's model pinned to E2B on llama.cpp, so the probe's verdict does not depend on a GPU.
  const defaultEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    freshEnv({ ATOMR_INFER_GEMMA_MODEL: MODEL, ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp', ...extra });
  const DEFAULT_CHAT = ['chat', '--prompt', 'hi', '--threads', '1', '--max-tokens', '4'];

  it('off a terminal, without --yes or ATOMR_INFER_GEMMA_AUTO=on, is not downloaded: exit 2 naming both', async () => {
    const result = await runCli(DEFAULT_CHAT, defaultEnv(), 60_000);
    expect(result.code).toBe(2);
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('off a terminal that needs --yes or ATOMR_INFER_GEMMA_AUTO=on');
    expect(hub.bytesServed(GGUF_FILE)).toBe(0);
  });

  it.each([
    ['ATOMR_INFER_GEMMA_AUTO=on', [], { ATOMR_INFER_GEMMA_AUTO: 'on' }],
    ['--yes', ['--yes'], {}],
  ])(
    'off a terminal, %s is the consent: gemma-local is set up, then chat answers',
    async (_, flags, extra) => {
      const result = await runCli([...DEFAULT_CHAT, ...flags], defaultEnv(extra), 90_000);
      expect(errorLines(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).not.toBe('');
      expect(result.stderr).toContain(`provision: downloading ${GGUF_FILE}`);
      expect(result.stderr).toContain('provision: "gemma-local" is ready');
      expect(await sha256(snapshotFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
    },
  );
});
