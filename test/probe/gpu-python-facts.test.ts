import { existsSync } from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryNvidiaGpus } from '../../src/probe/gpu-facts.js';
import { inspectPython, parsePythonEnvOutput, PYTHON_PROBE_SCRIPT } from '../../src/probe/python-facts.js';
import { createCommandRunner } from '../../src/core/subprocess.js';
import { createFakeBin, realPython, type FakeBin } from '../helpers/fake-bin.js';
import { sample } from './samples.js';

const runner = createCommandRunner();
let bin: FakeBin;

beforeEach(() => {
  bin = createFakeBin();
});
afterEach(() => bin.cleanup());

describe('queryNvidiaGpus (a fake nvidia-smi on PATH)', () => {
  it('reports an absent binary as "absent", not as a failure', async () => {
    const facts = await queryNvidiaGpus(runner, bin.env({ isolate: true }));
    expect(facts).toEqual({ status: 'absent' });
  });

  it('parses the GPUs and applies CUDA_VISIBLE_DEVICES from the environment it is given', async () => {
    bin.add('nvidia-smi', { stdout: sample('nvidia-smi-2gpus.csv') });
    const facts = await queryNvidiaGpus(runner, bin.env({ extra: { CUDA_VISIBLE_DEVICES: '1' } }));
    expect(facts.status).toBe('ok');
    if (facts.status !== 'ok') return;
    expect(facts.all).toHaveLength(2);
    expect(facts.visible.map((gpu) => gpu.index)).toEqual([1]);
    expect(facts.note).toContain('shows 1 of 2 GPUs');
  });

  it('quotes the first stderr line of a non-zero exit and hints at the driver/library mismatch', async () => {
    bin.add('nvidia-smi', { stderr: sample('nvidia-smi-nvml-mismatch.stderr'), exitCode: 18 });
    const facts = await queryNvidiaGpus(runner, bin.env());
    expect(facts).toMatchObject({
      status: 'failed',
      message: 'nvidia-smi failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
    });
    if (facts.status === 'failed') expect(facts.hint).toMatch(/reboot/);
  });

  it('falls back to stdout when the error went there (the "could not communicate" message)', async () => {
    bin.add('nvidia-smi', { stdout: sample('nvidia-smi-no-driver.stderr'), exitCode: 9 });
    const facts = await queryNvidiaGpus(runner, bin.env());
    expect(facts.status === 'failed' && facts.message).toContain(
      "couldn't communicate with the NVIDIA driver",
    );
    expect(facts.status === 'failed' && facts.hint).toContain('lsmod');
  });

  it('treats "No devices were found" (a driver without a GPU) as no GPU, not as a failure', async () => {
    bin.add('nvidia-smi', { stdout: 'No devices were found\n', exitCode: 6 });
    const facts = await queryNvidiaGpus(runner, bin.env());
    expect(facts).toEqual({ status: 'absent', detail: 'nvidia-smi: No devices were found' });
  });

  it('gives up on a hang after its timeout and says so', async () => {
    bin.add('nvidia-smi', { sleepSeconds: 30 });
    const started = Date.now();
    const facts = await queryNvidiaGpus(runner, bin.env(), 400);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(facts).toMatchObject({ status: 'failed', message: 'nvidia-smi did not answer within 0.4 s' });
  });

  it('reports unparsable output', async () => {
    bin.add('nvidia-smi', { stdout: 'Segmentation fault\n' });
    const facts = await queryNvidiaGpus(runner, bin.env());
    expect(facts.status === 'failed' && facts.message).toContain(
      'unexpected nvidia-smi output "Segmentation fault"',
    );
  });

  it('never shows a token that a failing nvidia-smi echoes', async () => {
    const token = 'hf_SecretTokenValue1234567890abcdef';
    bin.add('nvidia-smi', { stderr: `error near ${token}\n`, exitCode: 1 });
    const facts = await queryNvidiaGpus(runner, bin.env({ extra: { HF_TOKEN: token } }));
    expect(JSON.stringify(facts)).not.toContain(token);
  });
});

describe('parsePythonEnvOutput', () => {
  it('reads the sample without vLLM', () => {
    const env = parsePythonEnvOutput(sample('python-env-no-vllm.json'));
    expect(env).toMatchObject({
      version: '3.11.7',
      versionInfo: [3, 11, 7],
      vllm: { found: false, version: null },
    });
  });

  it('reads the sample with vLLM and its version', () => {
    const env = parsePythonEnvOutput(sample('python-env-with-vllm.json'));
    expect(env?.vllm).toMatchObject({ found: true, version: '0.9.1' });
  });

  it('takes the last JSON line after warnings and rejects anything else', () => {
    expect(
      parsePythonEnvOutput(`DeprecationWarning: x\n${sample('python-env-python38.json')}`)?.version,
    ).toBe('3.8.18');
    expect(parsePythonEnvOutput('not json')).toBeUndefined();
    expect(parsePythonEnvOutput('{"python": "3.11"}')).toBeUndefined();
    expect(parsePythonEnvOutput('{"version_info": [3, 11, 7]}')).toBeUndefined();
  });
});

describe('inspectPython (one spawn of probes/python-env.py)', () => {
  const python = realPython();
  let sitePackages: string;

  beforeEach(() => {
    sitePackages = mkdtempSync(join(tmpdir(), 'atomr-site-'));
  });
  afterEach(() => rmSync(sitePackages, { recursive: true, force: true }));

  it('says "not-found" for a missing interpreter', async () => {
    const facts = await inspectPython(runner, join(bin.dir, 'python9'), bin.env());
    expect(facts).toEqual({ status: 'not-found', interpreter: join(bin.dir, 'python9') });
  });

  it('reports a crashing interpreter with the last line of its stderr', async () => {
    bin.add('python3', {
      stderr: 'Traceback (most recent call last):\nImportError: libpython3.11.so: cannot open\n',
      exitCode: 1,
    });
    const facts = await inspectPython(runner, 'python3', bin.env());
    expect(facts).toMatchObject({
      status: 'failed',
      message: 'python3 failed (exit 1): ImportError: libpython3.11.so: cannot open',
    });
  });

  it('times out a hanging interpreter', async () => {
    bin.add('python3', { sleepSeconds: 30 });
    const facts = await inspectPython(runner, 'python3', bin.env(), 300);
    expect(facts).toMatchObject({ status: 'failed', message: 'python3 did not answer within 0.3 s' });
  });

  it.skipIf(!python)('finds vLLM on PYTHONPATH with its metadata version, without importing it', async () => {
    mkdirSync(join(sitePackages, 'vllm'));
    // Importing this package would raise: the probe must only locate it.
    writeFileSync(join(sitePackages, 'vllm', '__init__.py'), 'raise RuntimeError("vllm was imported")\n');
    mkdirSync(join(sitePackages, 'vllm-0.9.2.dist-info'));
    writeFileSync(
      join(sitePackages, 'vllm-0.9.2.dist-info', 'METADATA'),
      'Metadata-Version: 2.1\nName: vllm\nVersion: 0.9.2\n',
    );
    const facts = await inspectPython(runner, python ?? '', bin.env({ extra: { PYTHONPATH: sitePackages } }));
    expect(facts.status).toBe('ok');
    if (facts.status === 'ok')
      expect(facts.env.vllm).toMatchObject({ found: true, version: '0.9.2', error: null });
  });

  it.skipIf(!python)('reports vLLM found without metadata (a source checkout on PYTHONPATH)', async () => {
    mkdirSync(join(sitePackages, 'vllm'));
    writeFileSync(join(sitePackages, 'vllm', '__init__.py'), '');
    const facts = await inspectPython(runner, python ?? '', bin.env({ extra: { PYTHONPATH: sitePackages } }));
    if (facts.status !== 'ok') throw new Error(JSON.stringify(facts));
    expect(facts.env.vllm).toMatchObject({ found: true, version: null });
  });

  const oldPythons = ['2.7.18', '3.8.18']
    .map((v) => `/root/.pyenv/versions/${v}/bin/python`)
    .filter(existsSync);
  it.skipIf(oldPythons.length === 0)(
    'reads the version of real older interpreters (pyenv) without a SyntaxError',
    async () => {
      for (const interpreter of oldPythons) {
        const facts = await inspectPython(runner, interpreter, process.env);
        expect(facts.status, interpreter).toBe('ok');
        if (facts.status === 'ok')
          expect(facts.env.versionInfo[0] * 100 + facts.env.versionInfo[1]).toBeLessThan(310);
      }
    },
  );

  it('ships the probe script next to the code', () => {
    expect(existsSync(PYTHON_PROBE_SCRIPT)).toBe(true);
  });
});
