import { describe, expect, it } from 'vitest';
import { formatProbeReport, shouldUseColor } from '../../src/cli/probe-view.js';
import { evaluateProbe } from '../../src/probe/verdict.js';
import { gpuFacts, input, machine, pythonFacts, TOKEN, WITH_VLLM } from './fixtures.js';

describe('shouldUseColor', () => {
  it('colours a terminal unless NO_COLOR is set (any non-empty value) or TERM is dumb', () => {
    expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(shouldUseColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('lets FORCE_COLOR force colour off a terminal, but never over NO_COLOR', () => {
    expect(shouldUseColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldUseColor({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(shouldUseColor({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: 'yes' })).toBe(false);
  });
});

describe('formatProbeReport', () => {
  const report = evaluateProbe(
    input(machine({ gpu: gpuFacts('nvidia-smi-2gpus.csv'), python: pythonFacts(WITH_VLLM) }), {
      token: TOKEN,
    }),
  );

  it('prints one row per check, the verdict, the vLLM kwargs and the pinned GPU', () => {
    const text = formatProbeReport(report, { color: false });
    const rows = text.split('\n').filter((line) => /^ {2}[✓✗] /.test(line));
    expect(rows.map((row) => row.slice(4).split(/\s+/)[0])).toEqual([
      'gpu',
      'system',
      'python',
      'vllm',
      'hf-token',
      'vram',
      'disk',
      'ram',
    ]);
    expect(text).toContain('Verdict: ready — vLLM serves google/gemma-4-E4B-it');
    expect(text).toContain(
      'config: dtype=auto gpu_memory_utilization=0.5 enforce_eager=true max_num_seqs=16 cpu_offload_gb=8.5',
    );
    expect(text).toContain('gpu: NVIDIA GeForce RTX 3090 (GPU 1, GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff)');
    expect(text).not.toContain('\u001b[');
  });

  it('colours ✓ green, ✗ and skipped red, and shows the hint', () => {
    const skipped = evaluateProbe(
      input(machine(), { settings: { ...input(machine()).settings, runtime: 'vllm' } }),
    );
    const text = formatProbeReport(skipped, { color: true });
    expect(text).toContain('\u001b[32m✓\u001b[0m');
    expect(text).toContain('\u001b[31m✗\u001b[0m');
    expect(text).toContain('Verdict:\u001b[0m \u001b[31mskipped');
    expect(text).toContain('→ use llama.cpp instead');
  });
});
