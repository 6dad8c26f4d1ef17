import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/hub/disk-space.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { buildTinyGguf } from '../helpers/gguf/index.mjs';
import { BIN, jsonLines, runCli } from '../hub/cli.js';
import { GGUF_FILE, GGUF_REPO, tempHome, vllmRepo, type TempHome } from '../hub/helpers.js';

/**
 * provision end to end: the real probe on this machine, the real pull from a loopback Hub serving a tiny
 * generated Gemma GGUF, the real llama.cpp runner loading it once, and the real deployment registry.
 * The runtime is pinned to llama-cpp so the verdict does not depend on whether this machine has a GPU.
 */

let gguf: Buffer;
let hub: FakeHub;
let home: TempHome;

beforeAll(() => {
  gguf = buildTinyGguf({ seed: 7 });
});

beforeEach(async () => {
  hub = await startFakeHub({
    repos: [vllmRepo({ gated: true }), { id: GGUF_REPO, files: [{ path: GGUF_FILE, content: gguf }] }],
  });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return home.env({
    ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it',
    ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp',
    ...extra,
  });
}

const stateFile = (): string => join(home.dir, 'state', 'deployments.json');

describe('atomr-infer provision', () => {
  it('pulls, load-checks and registers gemma-local; a second run changes nothing', async () => {
    const first = await runCli(['provision'], env(), 60_000);
    expect(first.stderr).toContain('provision: loading the model once to check it works');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `Ready: gemma-local → google/gemma-4-E2B-it on llama-cpp (${GGUF_REPO}/${GGUF_FILE}@${hub.commitOf(GGUF_REPO).slice(0, 8)})\n`,
    );
    const state = await readFile(stateFile(), 'utf8');
    const served = hub.totalBytesServed();
    expect(served).toBe(gguf.length);

    const second = await runCli(['provision'], env(), 60_000);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('(unchanged)');
    expect(hub.totalBytesServed()).toBe(served);
    expect(await readFile(stateFile(), 'utf8')).toBe(state);

    // And with the network off, from the cache alone.
    const requests = hub.requests.length;
    const offline = await runCli(['provision'], env({ HF_HUB_OFFLINE: '1' }), 60_000);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('(unchanged)');
    expect(hub.requests.length).toBe(requests);

    const listed = await runCli(['deployments', '--json'], env());
    const [payload] = jsonLines(listed.stdout);
    expect(payload?.deployments).toEqual([
      expect.objectContaining({
        name: 'gemma-local',
        runtime: 'llama-cpp',
        weights: { kind: 'huggingface', repo: GGUF_REPO, revision: hub.commitOf(GGUF_REPO), file: GGUF_FILE },
        settings: expect.objectContaining({ gpu: false, gpuLayers: 0 }),
      }),
    ]);
  });

  it('reports the outcome as the last JSON line with --json, named by ATOMR_INFER_GEMMA_DEPLOYMENT', async () => {
    const result = await runCli(
      ['provision', '--json'],
      env({ ATOMR_INFER_GEMMA_DEPLOYMENT: 'my-gemma' }),
      60_000,
    );
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.at(-1)).toMatchObject({
      event: 'result',
      status: 'ready',
      changed: true,
      loadChecked: true,
      deployment: { name: 'my-gemma', model: 'google/gemma-4-E2B-it' },
      pull: { repo: GGUF_REPO, downloadedBytes: gguf.length },
      probe: { status: 'ready', runtime: 'llama-cpp' },
    });
    expect(lines.some((line) => line.event === 'plan')).toBe(true);
    // The probe's disk check used the size the Hub reported, not the catalog's multi-GB estimate.
    expect(lines.at(-1)).toMatchObject({ probe: { weights: { gguf: { sizeSource: 'hub' } } } });
  });

  it('offline with nothing cached: skipped (exit 3) without a single request', async () => {
    const result = await runCli(['provision', '--json'], env({ HF_HUB_OFFLINE: '1' }), 60_000);
    expect(result.code).toBe(3);
    const last = jsonLines(result.stdout).at(-1);
    expect(last).toMatchObject({ event: 'result', status: 'skipped', code: 'probe-skipped' });
    expect(String(last?.reason)).toContain('HF_HUB_OFFLINE');
    expect(hub.requests).toHaveLength(0);
  });

  it('is skipped (exit 3) with the reason when auto-provisioning is off, touching nothing', async () => {
    const result = await runCli(['provision'], env({ ATOMR_INFER_GEMMA_AUTO: '0' }));
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('Skipped: auto-provisioning is off (ATOMR_INFER_GEMMA_AUTO=0)');
    expect(hub.requests).toHaveLength(0);
  });

  it('prints nothing at all with ATOMR_INFER_GEMMA_AUTO=skip-quietly (exit 3)', async () => {
    const result = await runCli(['provision', '--json'], env({ ATOMR_INFER_GEMMA_AUTO: 'skip-quietly' }));
    expect(result).toMatchObject({ code: 3, stdout: '', stderr: '' });
  });

  it('is skipped with the probe’s reason and hint when the machine cannot run the runtime', async () => {
    // vLLM needs an NVIDIA GPU and the vllm package; neither exists on a CI machine.
    const result = await runCli(['provision', '--runtime', 'vllm', '--json'], env(), 60_000);
    expect(result.code).toBe(3);
    const last = jsonLines(result.stdout).at(-1);
    expect(last).toMatchObject({ event: 'result', status: 'skipped', code: 'probe-skipped' });
    expect(String(last?.reason)).toMatch(/vllm|vLLM/);
    expect(hub.bytesServed(GGUF_FILE)).toBe(0);
  });
});

describe('chat without --model', () => {
  it('provisions gemma-local first with --yes, then answers; the next chat just uses it', async () => {
    const result = await runCli(
      ['chat', '--prompt', 'hello', '--max-tokens', '4', '--threads', '1', '--yes'],
      env(),
      60_000,
    );
    expect(result.stderr).toContain('provision: setting up "gemma-local"');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
    expect(await readFile(stateFile(), 'utf8')).toContain('"gemma-local"');

    // The next chat uses the registered deployment: no provisioning, not a single Hub request.
    const requests = hub.requests.length;
    const again = await runCli(
      ['chat', '--prompt', 'hi', '--max-tokens', '3', '--threads', '1'],
      env(),
      60_000,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('provision:');
    expect(hub.requests.length).toBe(requests);
  });

  it('refuses to start a download off a terminal without --yes (exit 2)', async () => {
    const result = await runCli(['chat', '--prompt', 'hello', '--max-tokens', '4'], env(), 60_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs --yes');
    expect(hub.bytesServed(GGUF_FILE)).toBe(0);
  });
});

describe('the download question on a terminal', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;

  /** Runs the CLI under `script`, so it sees a terminal on stdin and stderr, typing `answer`. */
  function inTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
    const command = [process.execPath, BIN, ...args].map((part) => `'${part}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env(), TERM: 'dumb' } });
    let output = '';
    let answered = false;
    child.stdin.on('error', () => undefined); // the terminal may close before we stop typing
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!answered && output.includes('[Y/n]')) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
  }

  it.skipIf(!hasScript)('asks before downloading and stops when told no (exit 3)', async () => {
    const result = await inTerminal(['provision'], 'n');
    expect(result.output).toContain(
      `Download ${formatBytes(gguf.length)} of ${GGUF_REPO} for llama-cpp into ${home.cacheDir}? [Y/n]`,
    );
    expect(result.output).toContain('Skipped: the download of ggml-org/gemma-4-E2B-it-GGUF was declined');
    expect(result.code).toBe(3);
    expect(hub.bytesServed(GGUF_FILE)).toBe(0);
  });

  it.skipIf(!hasScript)('chat asks too, and goes ahead on yes', async () => {
    const result = await inTerminal(
      ['chat', '--prompt', 'hello', '--max-tokens', '3', '--threads', '1'],
      'y',
    );
    expect(result.output).toContain('"gemma-local" is not set up yet. Download');
    expect(result.code).toBe(0);
    expect(hub.bytesServed(GGUF_FILE)).toBe(gguf.length);
  });
});
