import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../src/core/subprocess.js';
import { runProbe, scanMachine } from '../../src/probe/index.js';
import { createCommandRunner } from '../../src/core/subprocess.js';
import { createFakeBin, type FakeBin } from '../helpers/fake-bin.js';
import { settings } from './fixtures.js';
import { sample } from './samples.js';

const ok = (stdout: string): CommandResult => ({
  exitCode: 0,
  stdout,
  stderr: '',
  notFound: false,
  timedOut: false,
  failed: false,
  durationMs: 1,
});

/** An injected CommandRunner: canned answers per program, and a record of what was run. */
function cannedRunner(answers: Record<string, CommandResult>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async run(file, args) {
      calls.push([file, ...args].join(' '));
      const name = file.split('/').pop() ?? file;
      return answers[name] ?? { ...ok(''), exitCode: undefined, notFound: true, failed: true };
    },
  };
}

/** No Hub here: a loopback port nothing listens on refuses at once, so the catalog's facts stand in. */
const CLOSED_PORT = 'http://127.0.0.1:9';

describe('runProbe', () => {
  it('runs nvidia-smi and ONE python spawn through the injected runner', async () => {
    const commands = cannedRunner({
      'nvidia-smi': ok(sample('nvidia-smi-1gpu.csv')),
      python3: ok(sample('python-env-with-vllm.json')),
    });
    const report = await runProbe({
      settings: settings({ ATOMR_INFER_GEMMA_GPU_UTIL: '0.9' }),
      env: { HOME: '/nonexistent', HF_TOKEN: 'hf_x', HF_ENDPOINT: CLOSED_PORT },
      commands,
    });
    expect(commands.calls).toHaveLength(2);
    const [python, nvidiaSmi] = [...commands.calls].sort().reverse();
    expect(nvidiaSmi).toBe(
      'nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,driver_version --format=csv,noheader,nounits',
    );
    expect(python).toMatch(/^python3 .*probes\/python-env\.py$/);
    expect(report).toMatchObject({ status: 'ready', runtime: 'vllm' });
  });

  it('uses the Hub’s sizes instead of the catalog’s', async () => {
    const commands = cannedRunner({ python3: ok(sample('python-env-no-vllm.json')) });
    const env = { HOME: '/nonexistent', HF_ENDPOINT: CLOSED_PORT };
    const estimated = await runProbe({ settings: settings(), env, commands });
    expect(estimated.weights?.gguf.sizeSource).toBe('estimate');
    const real = await runProbe({
      settings: settings(),
      env,
      commands,
      hubFacts: Promise.resolve({
        source: 'hub',
        vllm: { repo: 'google/gemma-4-E4B-it', gated: false, bytes: 9 * 1024 ** 3 },
        gguf: { repo: 'ggml-org/gemma-4-E4B-it-GGUF', gated: false, bytes: 2 * 1024 ** 3 },
      }),
    });
    expect(real.weights).toMatchObject({
      gguf: { sizeGiB: 2, sizeSource: 'hub' },
      vllm: { sizeGiB: 9, sizeSource: 'hub' },
    });
    expect(real.checks.find((c) => c.name === 'ram')?.value).toContain('GGUF 2.0 GiB');
    expect(real.notes ?? []).not.toContain(
      'download sizes are the catalog’s estimates until the weights are pulled',
    );
  });

  it('asks the right interpreter again when a pre-started scan asked another', async () => {
    const commands = cannedRunner({
      python3: ok(sample('python-env-no-vllm.json')),
      python38: ok(sample('python-env-python38.json')),
    });
    const env = { HOME: '/nonexistent', HF_ENDPOINT: CLOSED_PORT };
    const scan = scanMachine({ env, python: 'python3', commands });
    const report = await runProbe({
      settings: settings({ ATOMR_INFER_PYTHON: 'python38' }),
      env,
      commands,
      scan,
    });
    expect(report.checks.find((c) => c.name === 'python')?.value).toContain('Python 3.8.18');
  });
});

describe('checks with their own timeouts (real spawns of fake programs)', () => {
  let bin: FakeBin;
  beforeEach(() => {
    bin = createFakeBin();
  });
  afterEach(() => bin.cleanup());

  it('reports a hanging nvidia-smi and a hanging python without waiting for them', async () => {
    bin.add('nvidia-smi', { sleepSeconds: 30 });
    bin.add('python3', { sleepSeconds: 30 });
    const started = Date.now();
    const report = await runProbe({
      settings: settings(),
      env: bin.env({ isolate: true, extra: { HOME: '/nonexistent', HF_ENDPOINT: CLOSED_PORT } }),
      scanOptions: { timeouts: { gpuMs: 300, pythonMs: 300 } },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    const gpu = report.checks.find((c) => c.name === 'gpu');
    expect(gpu).toMatchObject({ ok: false, reason: 'nvidia-smi did not answer within 0.3 s' });
    expect(report.checks.find((c) => c.name === 'python')).toMatchObject({
      ok: false,
      reason: 'python3 did not answer within 0.3 s',
    });
    expect(report.status).toBe('ready');
  });
});

describe('createCommandRunner', () => {
  let bin: FakeBin;
  beforeEach(() => {
    bin = createFakeBin();
  });
  afterEach(() => bin.cleanup());
  const runner = createCommandRunner();

  it('captures stdout, stderr and the exit code without a shell', async () => {
    bin.add('tool', { stdout: 'out; $(not run)\n', stderr: 'err\n', exitCode: 7 });
    const result = await runner.run('tool', ['--flag', '$HOME'], { env: bin.env() });
    expect(result).toMatchObject({
      exitCode: 7,
      stdout: 'out; $(not run)\n',
      stderr: 'err\n',
      failed: true,
      notFound: false,
    });
  });

  it('says notFound for a missing program or one that is not executable', async () => {
    expect(await runner.run('no-such-tool', [], { env: bin.env({ isolate: true }) })).toMatchObject({
      notFound: true,
      failed: true,
    });
  });

  it('feeds input on stdin', async () => {
    bin.addScript('echoer', `exec ${'cat'}`);
    const result = await runner.run('echoer', [], { env: bin.env(), input: 'hello' });
    expect(result.stdout).toBe('hello');
  });

  it('kills the child when aborted', async () => {
    bin.add('slow', { sleepSeconds: 30 });
    const controller = new AbortController();
    const pending = runner.run('slow', [], { env: bin.env(), signal: controller.signal, timeoutMs: 20_000 });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ failed: true, timedOut: false });
  });
});
