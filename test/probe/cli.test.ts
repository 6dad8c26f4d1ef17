import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realPython } from '../helpers/fake-bin.js';
import { createSandbox, parseReport, runCli, type Sandbox } from './cli-helpers.js';
import { sample } from './samples.js';
import { writeCachedSnapshot } from '../helpers/hf-cache.js';

let box: Sandbox;
beforeEach(() => {
  box = createSandbox();
});
afterEach(() => box.cleanup());

const check = (report: ReturnType<typeof parseReport>, name: string) =>
  report.checks.find((c) => c.name === name);

/** A fake vLLM distribution (package + metadata) that a real interpreter finds on PYTHONPATH. */
function fakeVllm(): string {
  const site = join(box.home, 'site-packages');
  mkdirSync(join(site, 'vllm'), { recursive: true });
  writeFileSync(join(site, 'vllm', '__init__.py'), 'raise RuntimeError("probe must not import vllm")\n');
  mkdirSync(join(site, 'vllm-0.9.1.dist-info'));
  writeFileSync(
    join(site, 'vllm-0.9.1.dist-info', 'METADATA'),
    'Metadata-Version: 2.1\nName: vllm\nVersion: 0.9.1\n',
  );
  return site;
}

describe('atomr-infer probe --json', () => {
  it('reports all eight checks on a machine without a GPU and picks llama.cpp (exit 0)', async () => {
    const result = await runCli(['probe', '--json'], box.env());
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report).toMatchObject({
      status: 'ready',
      runtime: 'llama-cpp',
      model: 'google/gemma-4-E4B-it',
      deployment: 'gemma-local',
    });
    expect(report.checks.map((c) => c.name)).toEqual([
      'gpu',
      'system',
      'python',
      'vllm',
      'hf-token',
      'vram',
      'disk',
      'ram',
    ]);
    expect(check(report, 'gpu')).toMatchObject({ ok: true, value: 'no NVIDIA GPU (nvidia-smi not found)' });
    expect(check(report, 'disk')?.value).toMatch(/GiB free at /);
    expect(result.stderr).toBe('');
  });

  // Needs a real interpreter to find the fake vLLM distribution on PYTHONPATH.
  it.skipIf(!realPython())(
    'picks vLLM with a GPU, vLLM and a token, and pins the GPU it measured',
    async () => {
      box.bin.add('nvidia-smi', { stdout: sample('nvidia-smi-2gpus.csv') });
      const env = box.env({ PYTHONPATH: fakeVllm(), HF_TOKEN: 'hf_abcdefghijklmnopqrstuvwxyz0123' });
      const result = await runCli(['probe', '--json'], env);
      const report = parseReport(result.stdout);
      expect(result.code, result.stderr).toBe(0);
      expect(report).toMatchObject({
        status: 'ready',
        runtime: 'vllm',
        selectedGpu: { index: 1, uuid: 'GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff' },
        config: {
          runtime: 'vllm',
          gpu_memory_utilization: 0.5,
          enforce_eager: true,
          max_num_seqs: 16,
          cpu_offload_gb: 8.5,
        },
      });
      expect(check(report, 'vllm')).toMatchObject({ ok: true, value: 'vLLM 0.9.1' });
      expect(check(report, 'hf-token')).toMatchObject({ ok: true, value: 'set (HF_TOKEN)' });
    },
  );

  it('exits 3 with a reason and a hint when the forced runtime cannot run', async () => {
    const result = await runCli(['probe', '--json', '--runtime', 'vllm'], box.env());
    expect(result.code).toBe(3);
    const report = parseReport(result.stdout);
    expect(report).toMatchObject({
      status: 'skipped',
      runtime: null,
      requestedRuntime: 'vllm',
      config: null,
    });
    expect(report.reason).toContain('vLLM cannot serve');
    expect(report.hint).toContain('--runtime auto');
  });

  it('honours --model and ATOMR_INFER_GEMMA_RUNTIME, flag over env', async () => {
    const result = await runCli(
      ['probe', '--json', '--model', 'google/gemma-4-E2B', '--runtime', 'llama-cpp'],
      box.env({ ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E4B-it', ATOMR_INFER_GEMMA_RUNTIME: 'vllm' }),
    );
    expect(result.code).toBe(0);
    expect(parseReport(result.stdout)).toMatchObject({
      model: 'google/gemma-4-E2B',
      requestedRuntime: 'llama-cpp',
      runtime: 'llama-cpp',
    });
  });

  it('quotes a failing nvidia-smi and still serves with llama.cpp', async () => {
    box.bin.add('nvidia-smi', { stderr: sample('nvidia-smi-nvml-mismatch.stderr'), exitCode: 18 });
    const result = await runCli(['probe', '--json'], box.env());
    const report = parseReport(result.stdout);
    expect(check(report, 'gpu')).toMatchObject({
      ok: false,
      reason: 'nvidia-smi failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
    });
    expect(report.runtime).toBe('llama-cpp');
  });

  it('treats CUDA_VISIBLE_DEVICES set but empty as no visible GPU', async () => {
    box.bin.add('nvidia-smi', { stdout: sample('nvidia-smi-1gpu.csv') });
    const result = await runCli(['probe', '--json'], box.env({ CUDA_VISIBLE_DEVICES: '' }));
    const report = parseReport(result.stdout);
    expect(check(report, 'vram')).toMatchObject({ ok: false, value: 'no NVIDIA GPU visible' });
    expect(check(report, 'vram')?.reason).toContain('set but empty');
    expect(report.gpus).toEqual([]);
  });

  it('fails the python check for a Python older than 3.10 (ATOMR_INFER_PYTHON), naming the fix', async () => {
    const old = ['/root/.pyenv/versions/3.8.18/bin/python'].find(existsSync);
    const python = old ?? box.bin.add('python3.8', { stdout: sample('python-env-python38.json') });
    const result = await runCli(['probe', '--json'], box.env({ ATOMR_INFER_PYTHON: python }));
    const report = parseReport(result.stdout);
    expect(check(report, 'python')).toMatchObject({ ok: false, reason: 'vLLM needs Python 3.10 or newer' });
    expect(check(report, 'python')?.value).toContain('Python 3.8.');
    expect(check(report, 'python')?.hint).toContain('ATOMR_INFER_PYTHON=');
  });

  it('says that auto-provisioning is disabled but still reports', async () => {
    const result = await runCli(['probe', '--json'], box.env({ ATOMR_INFER_GEMMA_AUTO: 'skip-quietly' }));
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report).toMatchObject({ status: 'ready', autoProvision: 'skip-quietly' });
    expect(report.notes?.join(' ')).toContain('auto-provisioning is disabled');
  });

  it('uses a GGUF already in the Hub cache: no download, its path in the config', async () => {
    const name = 'gemma-4-E4B-it-Q4_K_M.gguf';
    const file = writeCachedSnapshot(box.cacheDir, 'ggml-org/gemma-4-E4B-it-GGUF', { [name]: 'GGUF' })[name]!;
    truncateSync(file, 200 * 1024 * 1024); // sparse: 200 MiB on paper, nothing on disk
    const result = await runCli(['probe', '--json'], box.env());
    const report = parseReport(result.stdout);
    expect(report.config).toMatchObject({ ggufPath: file });
    expect(check(report, 'disk')?.value).toContain('GGUF cached');
    expect(check(report, 'ram')?.value).toMatch(/^needs 1\.\d GiB \(GGUF 0\.2 GiB/);
  });
});

describe('configuration errors (exit 2)', () => {
  it('names the variable, the value and what is accepted, as JSON on stdout with --json', async () => {
    const result = await runCli(['probe', '--json'], box.env({ ATOMR_INFER_GEMMA_GPU_UTIL: '1.5' }));
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout) as {
      error: { code: string; message: string; exitCode: number };
    };
    expect(error).toMatchObject({ code: 'config', exitCode: 2 });
    expect(error.message).toBe(
      'ATOMR_INFER_GEMMA_GPU_UTIL="1.5" is not valid: expected a number greater than 0 and at most 1 (e.g. 0.5)',
    );
  });

  it('suggests the closest model id for a typo', async () => {
    const result = await runCli(['probe', '--model', 'gemma-4-e4b-it'], box.env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--model "gemma-4-e4b-it" is not valid');
    expect(result.stderr).toContain('did you mean google/gemma-4-E4B-it?');
    expect(result.stdout).toBe('');
  });

  it('rejects an unknown runtime', async () => {
    const result = await runCli(['probe', '--runtime', 'ollama'], box.env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--runtime "ollama" is not valid: expected one of auto, vllm, llama-cpp');
  });

  it('rejects a malformed ATOMR_INFER_GEMMA_GGUF', async () => {
    const result = await runCli(['probe'], box.env({ ATOMR_INFER_GEMMA_GGUF: 'hf:not a repo' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ATOMR_INFER_GEMMA_GGUF="hf:not a repo" is not valid');
  });
});

describe('human output', () => {
  it('shows a table of checks with ✓/✗ and a verdict, without colour under NO_COLOR', async () => {
    const result = await runCli(['probe'], box.env({ FORCE_COLOR: '1', NO_COLOR: '1' }));
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toMatch(/✓ gpu\s+no NVIDIA GPU/);
    expect(result.stdout).toMatch(/✗ vram\s+vLLM\s+no NVIDIA GPU/);
    expect(result.stdout).toContain('Verdict: ready — llama.cpp serves google/gemma-4-E4B-it');
    expect(result.stdout).toMatch(
      /config: gguf=hf:ggml-org\/gemma-4-E4B-it-GGUF gpuLayers=0 contextSize=\d+ threads=\d+ gpu=false/,
    );
  });

  it('colours marks when forced to, and shows memory in GiB only', async () => {
    const result = await runCli(['probe'], box.env({ FORCE_COLOR: '1' }));
    expect(result.stdout).toContain('\u001b[32m✓\u001b[0m');
    expect(result.stdout).not.toMatch(/\d GB\b/);
  });

  it('exits 3 and prints the reason and the hint when skipped', async () => {
    const result = await runCli(['probe', '--runtime', 'vllm'], box.env());
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('Verdict: skipped');
    expect(result.stdout).toContain('→ use llama.cpp instead: ATOMR_INFER_GEMMA_RUNTIME=llama-cpp');
  });
});
