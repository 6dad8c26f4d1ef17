import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub, type FakeRepo } from '../fakes/hub/fake-hub.js';
import { startSilentServer, type HostileServer } from '../helpers/hostile-servers.js';
import { createSandbox, parseReport, runCli, type Sandbox } from '../probe/cli-helpers.js';
import { sample } from '../probe/samples.js';

/**
 * `probe` asks the Hub (the loopback fake) whether the model's repos are gated and how big their files are, and
 * remembers the answer; without an answer it uses the catalog's facts and says so.
 */

const MODEL = 'google/gemma-4-E2B-it';
const GGUF = 'ggml-org/gemma-4-E2B-it-GGUF';
const MiB = 1024 ** 2;

function repos(gated: boolean): FakeRepo[] {
  return [
    {
      id: MODEL,
      gated,
      files: [
        { path: 'config.json', content: Buffer.from('{"model_type":"gemma4"}') },
        { path: 'model.safetensors', content: Buffer.alloc(3 * MiB) },
      ],
    },
    {
      // No Q4_K_M (as one pin of this repo says): the chain takes Q4_0, never the projector.
      id: GGUF,
      files: [
        { path: 'gemma-4-E2B-it-Q4_0.gguf', content: Buffer.alloc(2 * MiB) },
        { path: 'gemma-4-E2B-it-Q8_0.gguf', content: Buffer.alloc(4 * MiB) },
        { path: 'mmproj-gemma-4-E2B-it-Q4_K_M.gguf', content: Buffer.alloc(MiB) },
      ],
    },
  ];
}

let box: Sandbox;
let hub: FakeHub | undefined;
let silent: HostileServer | undefined;
beforeEach(() => {
  box = createSandbox();
  // A GPU with room for E2B-it, and a Python that has vLLM (the sample's answer).
  box.bin.add('nvidia-smi', { stdout: sample('nvidia-smi-2gpus.csv') });
  box.bin.add('python3', { stdout: sample('python-env-with-vllm.json') });
});
afterEach(async () => {
  box.cleanup();
  await hub?.close();
  await silent?.close();
  hub = undefined;
  silent = undefined;
});

const check = (report: ReturnType<typeof parseReport>, name: string) =>
  report.checks.find((c) => c.name === name);
const apiRequests = (fake: FakeHub) => fake.requests.filter((r) => r.kind === 'api').length;

describe('probe asks the Hub', () => {
  it('is ready for vLLM without a token when the Hub says the repo is not gated, with the Hub’s sizes', async () => {
    hub = await startFakeHub({ repos: repos(false) });
    const result = await runCli(['probe', '--json', '--model', MODEL], box.env({ HF_ENDPOINT: hub.url }));
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report).toMatchObject({ status: 'ready', runtime: 'vllm', hub: { source: 'hub' } });
    expect(check(report, 'hf-token')).toMatchObject({
      ok: true,
      value: 'not set',
      reason: `not needed: the Hub says ${MODEL} is not gated`,
    });
    expect(report.weights).toMatchObject({
      vllm: { sizeSource: 'hub' },
      gguf: { sizeSource: 'hub', source: `hf:${GGUF}/gemma-4-E2B-it-Q4_0.gguf` },
    });
    expect(result.stdout).not.toContain('mmproj');
  });

  it('says a token is needed when the Hub marks the repo gated (401 without one), and names `hf auth login`', async () => {
    hub = await startFakeHub({ repos: repos(true) });
    const env = box.env({ HF_ENDPOINT: hub.url });
    const result = await runCli(['probe', '--json', '--model', MODEL, '--runtime', 'vllm'], env);
    expect(result.code).toBe(3);
    const report = parseReport(result.stdout);
    expect(check(report, 'hf-token')).toMatchObject({ ok: false, value: 'not set' });
    expect(check(report, 'hf-token')?.reason).toContain('refuses google/gemma-4-E2B-it without a token');
    expect(check(report, 'hf-token')?.hint).toContain('`hf auth login`');
    expect(report.hint).toContain('`hf auth login`');

    // With the token the Hub answers (gated: "manual"), and a token that is set is used; never printed.
    const withToken = await runCli(['probe', '--json', '--model', MODEL, '--runtime', 'vllm'], {
      ...env,
      HF_TOKEN: hub.token,
    });
    expect(withToken.code, withToken.stdout).toBe(0);
    const ready = parseReport(withToken.stdout);
    expect(ready.hub).toMatchObject({ vllm: { repo: MODEL, gated: true } });
    expect(check(ready, 'hf-token')).toMatchObject({ ok: true, value: 'set (HF_TOKEN)' });
    expect(withToken.stdout + withToken.stderr).not.toContain(hub.token);
    expect(hub.requests.some((r) => r.authorization === `Bearer ${hub?.token}`)).toBe(true);
  });

  it('remembers the answer in the state directory: the second probe asks nothing', async () => {
    hub = await startFakeHub({ repos: repos(false) });
    const env = box.env({ HF_ENDPOINT: hub.url });
    const first = await runCli(['probe', '--json', '--model', MODEL], env);
    expect(first.code, first.stderr).toBe(0);
    const asked = apiRequests(hub);
    expect(asked).toBe(2); // the safetensors repo and the GGUF repo
    const second = await runCli(['probe', '--json', '--model', MODEL], env);
    expect(second.code, second.stderr).toBe(0);
    expect(apiRequests(hub)).toBe(asked);
    const report = parseReport(second.stdout);
    expect(report.hub).toMatchObject({ source: 'remembered' });
    expect(report.weights).toMatchObject({ vllm: { sizeSource: 'hub' }, gguf: { sizeSource: 'hub' } });
  });
});

describe('probe without a Hub answer uses the catalog and says so', () => {
  it('a Hub that accepts and never answers: the catalog’s facts, a note, and no token demanded', async () => {
    silent = await startSilentServer();
    const result = await runCli(['probe', '--json', '--model', MODEL], box.env({ HF_ENDPOINT: silent.url }));
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report).toMatchObject({ status: 'ready', runtime: 'vllm', hub: { source: 'catalog' } });
    expect(report.notes).toContain(
      `the Hub at ${silent.url} did not answer within 1.5 s: gating and download sizes are the catalog’s`,
    );
    expect(check(report, 'hf-token')).toMatchObject({
      ok: true,
      reason: `not needed: the catalog says ${MODEL} is not gated`,
    });
  });

  it('an unreachable Hub: the catalog’s sizes feed the disk check', async () => {
    const result = await runCli(['probe', '--json', '--model', MODEL], box.env());
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.notes?.some((note) => /^cannot reach the Hub at http:\/\/127\.0\.0\.1:9/.test(note))).toBe(
      true,
    );
    // 10,246,621,918 B of safetensors = 9.54 GiB; 3,106,738,272 B of GGUF = 2.89 GiB.
    expect(check(report, 'disk')?.value).toContain('vLLM weights ≈9.6 GiB to download');
    expect(check(report, 'disk')?.value).toContain('GGUF ≈2.9 GiB to download');
  });

  it('HF_HUB_OFFLINE: nothing is asked, the catalog’s facts stand in, with a note', async () => {
    hub = await startFakeHub({ repos: repos(true) });
    const env = box.env({ HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' });
    const result = await runCli(['probe', '--json', '--model', MODEL], env);
    const report = parseReport(result.stdout);
    expect(hub.requests).toHaveLength(0);
    expect(report.notes).toContain('HF_HUB_OFFLINE is set: gating and download sizes are the catalog’s');
    expect(check(report, 'disk')?.value).toContain('vLLM weights ≈9.6 GiB to download');
  });
});
