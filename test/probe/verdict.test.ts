import { describe, expect, it } from 'vitest';
import { derivedCpuOffloadGiB } from '../../src/probe/ready-config.js';
import type { LlamaCppReadyConfig, VllmReadyConfig } from '../../src/core/ready-config.js';
import type { ProbeReport } from '../../src/probe/types.js';
import { evaluateProbe } from '../../src/probe/verdict.js';
import { gpuFacts, input, machine, nvidiaGpus, pythonFacts, settings, TOKEN, WITH_VLLM } from './fixtures.js';

const check = (report: ProbeReport, name: string) => {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check`);
  return found;
};
const GPU_MACHINE = { gpu: gpuFacts('nvidia-smi-1gpu.csv'), python: pythonFacts(WITH_VLLM) };
/** vLLM may take 90% of the L4's 22.5 GiB: E4B-it's 14.9 GiB of weights and a 131072-token KV cache fit. */
const UTIL_90 = { ATOMR_INFER_GEMMA_GPU_UTIL: '0.9' };

describe('auto on an NVIDIA machine', () => {
  it('picks vLLM when GPU, Python, vLLM, token and VRAM all pass, with the kwargs provisioning uses', () => {
    const report = evaluateProbe(input(machine(GPU_MACHINE), { token: TOKEN, settings: settings(UTIL_90) }));
    expect(report).toMatchObject({
      status: 'ready',
      runtime: 'vllm',
      selectedGpu: { index: 0, name: 'NVIDIA L4' },
    });
    expect(report.config).toEqual({
      runtime: 'vllm',
      model: 'google/gemma-4-E4B-it',
      dtype: 'auto',
      gpu_memory_utilization: 0.9,
      enforce_eager: true,
      max_num_seqs: 16,
      cpu_offload_gb: 0,
    } satisfies VllmReadyConfig);
    expect(report.checks.every((c) => c.ok)).toBe(true);
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
  });

  it('passes max_model_len through only when it is set', () => {
    const s = settings({ ...UTIL_90, ATOMR_INFER_GEMMA_MAX_LEN: '4096' });
    const report = evaluateProbe(input(machine(GPU_MACHINE), { token: TOKEN, settings: s }));
    expect((report.config as VllmReadyConfig).max_model_len).toBe(4096);
  });

  it('uses the visible GPU with the most free VRAM, not GPU 0', () => {
    const report = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: gpuFacts('nvidia-smi-2gpus.csv') }), { token: TOKEN }),
    );
    expect(report.runtime).toBe('vllm');
    expect(report.config).toMatchObject({ cpu_offload_gb: 8.5 });
    expect(report.selectedGpu?.uuid).toBe('GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff');
    expect(check(report, 'vram').value).toContain('(GPU 1)');
  });

  it('falls back to llama.cpp on the GPU when vLLM is missing, and says how to get vLLM', () => {
    const report = evaluateProbe(
      input(machine({ gpu: gpuFacts('nvidia-smi-1gpu.csv') }), { token: TOKEN, settings: settings(UTIL_90) }),
    );
    expect(report).toMatchObject({
      status: 'ready',
      runtime: 'llama-cpp',
      hint: 'for vLLM on this GPU: python3 -m pip install vllm',
    });
    expect(report.config).toMatchObject({
      gpu: 'cuda',
      gpuLayers: 'auto',
      contextSize: 8192,
    } satisfies Partial<LlamaCppReadyConfig>);
    expect(check(report, 'vllm')).toMatchObject({ ok: false, hint: 'python3 -m pip install vllm' });
    expect(report.reason).toContain('vLLM is not used: vllm:');
  });

  it('needs no token for a repo that is not gated (Gemma 4 is Apache-2.0)', () => {
    const report = evaluateProbe(input(machine(GPU_MACHINE), { settings: settings(UTIL_90) }));
    expect(report.runtime).toBe('vllm');
    expect(check(report, 'hf-token')).toMatchObject({
      ok: true,
      value: 'not set',
      reason: 'not needed: the catalog says google/gemma-4-E4B-it is not gated',
    });
  });

  it('needs the token only while weights the Hub calls gated are not cached, and names `hf auth login`', () => {
    const hub = {
      source: 'hub' as const,
      vllm: { repo: 'google/gemma-4-E4B-it', gated: true },
    };
    const without = evaluateProbe({ ...input(machine(GPU_MACHINE), { settings: settings(UTIL_90) }), hub });
    expect(without.runtime).toBe('llama-cpp');
    expect(check(without, 'hf-token')).toMatchObject({ ok: false, value: 'not set' });
    expect(check(without, 'hf-token').reason).toBe(
      'the Hub says google/gemma-4-E4B-it is gated, so downloading it needs a Hugging Face token',
    );
    expect(check(without, 'hf-token').hint).toContain('`hf auth login`');
    expect(check(without, 'hf-token').hint).not.toContain('huggingface-cli');
    const cached = evaluateProbe({
      ...input(machine(GPU_MACHINE), { cached: { vllmCached: true }, settings: settings(UTIL_90) }),
      hub,
    });
    expect(cached.runtime).toBe('vllm');
    expect(check(cached, 'hf-token')).toMatchObject({
      ok: true,
      reason: 'not needed: google/gemma-4-E4B-it is already cached',
    });
  });

  it('refuses vLLM when gpu_memory_utilization × total exceeds free VRAM, suggesting a utilisation that fits', () => {
    const [gpu] = nvidiaGpus('nvidia-smi-1gpu.csv');
    const busy = { ...gpu!, totalGiB: 24, usedGiB: 14, freeGiB: 10 };
    const e2b = { ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it' };
    const report = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [busy], visible: [busy] } }), {
        token: TOKEN,
        settings: settings(e2b),
      }),
    );
    const vram = check(report, 'vram');
    expect(vram.ok).toBe(false);
    expect(vram.reason).toContain('gpu_memory_utilization 0.5 × 24.0 GiB = 12.0 GiB is more than is free');
    expect(vram.hint).toBe('lower the share vLLM reserves: ATOMR_INFER_GEMMA_GPU_UTIL=0.40');
    const lowered = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [busy], visible: [busy] } }), {
        token: TOKEN,
        settings: settings({ ...e2b, ATOMR_INFER_GEMMA_GPU_UTIL: '0.40' }),
      }),
    );
    expect(lowered.runtime).toBe('vllm');
  });

  it('suggests the smaller variant only when it passes every VRAM condition', () => {
    const [gpu] = nvidiaGpus('nvidia-smi-1gpu.csv');
    // 0.9 × 11 GiB = 9.9 GiB: not enough for E4B-it even fully offloaded (11.4 GiB), enough for E2B-it (9.2 GiB).
    const small = { ...gpu!, totalGiB: 11, usedGiB: 0.5, freeGiB: 10.5 };
    const facts = machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [small], visible: [small] } });
    const report = evaluateProbe(
      input(facts, { token: TOKEN, settings: settings(UTIL_90, { runtime: 'vllm' }) }),
    );
    expect(report.status).toBe('skipped');
    expect(check(report, 'vram').hint).toBe(
      'use the smaller google/gemma-4-E2B-it: ATOMR_INFER_GEMMA_MODEL=google/gemma-4-E2B-it (or --model google/gemma-4-E2B-it)',
    );
    expect(report.hint).toContain('ATOMR_INFER_GEMMA_MODEL=google/gemma-4-E2B-it');
    // The busy 24 GiB GPU of the two-GPU sample has 3.7 GiB free: enough for E2B's floor, not for 0.5 × 24 GiB.
    const busy = nvidiaGpus('nvidia-smi-2gpus.csv')[0]!;
    const crowded = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [busy], visible: [busy] } }), {
        token: TOKEN,
      }),
    );
    expect(check(crowded, 'vram').hint).toBe('free GPU memory: `nvidia-smi` lists the processes using it');
  });

  it('does not trust a GPU whose free memory is [N/A] (MIG) and runs llama.cpp on the CPU instead', () => {
    const report = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: gpuFacts('nvidia-smi-mig-na.csv') }), { token: TOKEN }),
    );
    expect(check(report, 'gpu').reason).toContain('memory.free=[N/A]');
    expect(check(report, 'vram')).toMatchObject({ ok: false, value: 'free VRAM unknown' });
    expect(report).toMatchObject({ runtime: 'llama-cpp', config: { gpu: false, gpuLayers: 0 } });
  });

  it('reports a broken driver on the gpu and vram checks and still serves with llama.cpp', () => {
    const gpu = {
      status: 'failed' as const,
      message: 'nvidia-smi failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
      hint: 'reboot',
    };
    const report = evaluateProbe(input(machine({ ...GPU_MACHINE, gpu }), { token: TOKEN }));
    expect(check(report, 'gpu')).toMatchObject({ ok: false, reason: gpu.message, hint: 'reboot' });
    expect(check(report, 'vram')).toMatchObject({ ok: false, hint: 'reboot' });
    expect(report.runtime).toBe('llama-cpp');
  });

  it('says when CUDA_VISIBLE_DEVICES hides every GPU', () => {
    const gpus = nvidiaGpus('nvidia-smi-1gpu.csv');
    const gpu = {
      status: 'ok' as const,
      all: gpus,
      visible: [],
      note: 'CUDA_VISIBLE_DEVICES="" is set but empty, so CUDA sees no GPU',
    };
    const report = evaluateProbe(input(machine({ ...GPU_MACHINE, gpu }), { token: TOKEN }));
    expect(check(report, 'gpu')).toMatchObject({ ok: true, value: '1 NVIDIA GPU, none visible to CUDA' });
    expect(check(report, 'vram')).toMatchObject({ ok: false, reason: gpu.note });
    expect(check(report, 'vram').hint).toContain('unset CUDA_VISIBLE_DEVICES');
    expect(report.runtime).toBe('llama-cpp');
  });
});

describe('forced runtimes', () => {
  it('explains why vLLM cannot run on a machine without an NVIDIA GPU, GPU first', () => {
    const report = evaluateProbe(input(machine(), { settings: settings({}, { runtime: 'vllm' }) }));
    expect(report).toMatchObject({ status: 'skipped', runtime: null, config: null });
    expect(report.reason).toMatch(
      /^vLLM cannot serve google\/gemma-4-E4B-it here \(requested runtime vllm\): vram: vLLM needs an NVIDIA GPU/,
    );
    expect(report.hint).toBe(
      'use llama.cpp instead: ATOMR_INFER_GEMMA_RUNTIME=llama-cpp (or --runtime auto)',
    );
  });

  it('serves llama.cpp when forced even though vLLM would run', () => {
    const report = evaluateProbe(
      input(machine(GPU_MACHINE), {
        token: TOKEN,
        settings: settings({ ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp' }),
      }),
    );
    expect(report).toMatchObject({ status: 'ready', runtime: 'llama-cpp', requestedRuntime: 'llama-cpp' });
    expect(report.reason).not.toContain('vLLM is not used');
  });
});

describe('the llama.cpp path', () => {
  const ram = (availableGiB: number) =>
    machine({}, { memory: { totalGiB: 8, availableGiB, source: 'systeminformation' } });

  it('shrinks the context to fit before giving up', () => {
    const report = evaluateProbe(input(ram(6)));
    expect(report).toMatchObject({ status: 'ready', runtime: 'llama-cpp', config: { contextSize: 4096 } });
    expect(check(report, 'ram').reason).toBe('context reduced from 8192 to 4096 tokens to fit');
  });

  it('keeps a context the user set, and fails rather than shrink it', () => {
    const report = evaluateProbe(
      input(ram(5.5), { settings: settings({ ATOMR_INFER_GEMMA_MAX_LEN: '32768' }) }),
    );
    expect(check(report, 'ram').ok).toBe(false);
    expect(check(report, 'ram').reason).toContain('32768-token context');
  });

  it('suggests the smaller variant with the exact env var when only it fits', () => {
    const report = evaluateProbe(input(ram(5)));
    expect(report.status).toBe('skipped');
    expect(report.hint).toBe(
      'the smaller google/gemma-4-E2B-it fits this machine: ATOMR_INFER_GEMMA_MODEL=google/gemma-4-E2B-it (or --model google/gemma-4-E2B-it)',
    );
    expect(report.reason).toContain(
      'llama.cpp (ram: llama.cpp needs ≈5.7 GiB for hf:ggml-org/gemma-4-E4B-it-GGUF (GGUF ≈5.0 GiB + 2048-token context))',
    );
  });

  it('is skipped with a memory hint when nothing fits', () => {
    const report = evaluateProbe(input(ram(2)));
    expect(report).toMatchObject({ status: 'skipped', runtime: null });
    expect(report.hint).toContain('free memory');
  });

  it('counts free VRAM as room for the weights', () => {
    const [gpu] = nvidiaGpus('nvidia-smi-1gpu.csv');
    const report = evaluateProbe(input({ ...ram(1), gpu: { status: 'ok', all: [gpu!], visible: [gpu!] } }));
    expect(report.runtime).toBe('llama-cpp');
    expect(check(report, 'ram').value).toContain('free on NVIDIA L4 (GPU 0)');
  });

  it('uses Metal on Apple silicon and Vulkan on an AMD GPU', () => {
    const apple = {
      index: 0,
      uuid: '',
      name: 'Apple M2',
      totalGiB: 16,
      usedGiB: null,
      freeGiB: 10,
      driverVersion: null,
      vendor: 'apple' as const,
    };
    expect(evaluateProbe(input(machine({}, { otherGpus: [apple] }))).config).toMatchObject({
      gpu: 'metal',
      gpuLayers: 'auto',
    });
    const amd = { ...apple, name: 'Radeon RX 6800', vendor: 'amd' as const, totalGiB: 16, freeGiB: 15 };
    expect(evaluateProbe(input(machine({}, { otherGpus: [amd] }))).config).toMatchObject({ gpu: 'vulkan' });
  });

  it('proposes the llama.cpp runner’s thread rule on the cores it found: 1 on a 2-CPU machine', () => {
    const threads = (physical: number, logical: number) =>
      (evaluateProbe(input(machine({}, { cpu: { physical, logical } }))).config as LlamaCppReadyConfig)
        .threads;
    expect(threads(2, 2)).toBe(1);
    expect(threads(1, 1)).toBe(1);
    expect(threads(2, 4)).toBe(1);
    expect(threads(8, 16)).toBe(7);
    expect(threads(64, 128)).toBe(16);
  });

  it('is skipped, naming the variable, when ATOMR_INFER_GEMMA_GGUF points to a missing file', () => {
    const missing = input(machine());
    const report = evaluateProbe({
      ...missing,
      weightsFor: (model) => {
        const facts = missing.weightsFor(model);
        return {
          ...facts,
          gguf: {
            ...facts.gguf,
            spec: { kind: 'local', path: '/x.gguf' },
            label: '/x.gguf',
            missingLocal: true,
          },
        };
      },
    });
    expect(report.status).toBe('skipped');
    expect(check(report, 'ram')).toMatchObject({
      ok: false,
      reason: 'ATOMR_INFER_GEMMA_GGUF points to /x.gguf, which does not exist',
    });
    expect(report.hint).toContain('unset ATOMR_INFER_GEMMA_GGUF');
  });

  it('reports the cached GGUF path and no download', () => {
    const report = evaluateProbe(input(machine(), { cached: { ggufCached: true } }));
    expect(report.config).toMatchObject({
      ggufPath: '/cache/ggml-org/gemma-4-E4B-it-GGUF/model-Q4_K_M.gguf',
    });
    expect(check(report, 'disk').value).toContain('GGUF cached');
  });
});

describe('disk', () => {
  const disk = (freeGiB: number) => machine({ disk: { ok: true, value: { path: '/mnt/small', freeGiB } } });

  it('fails when the download does not fit, naming the place and suggesting HF_HUB_CACHE', () => {
    const report = evaluateProbe(input(disk(3)));
    expect(report.status).toBe('skipped');
    const result = check(report, 'disk');
    expect(result).toMatchObject({ ok: false });
    expect(result.reason).toBe('the GGUF weights need ≈5.5 GiB but 3.0 GiB is free at /mnt/small');
    expect(result.hint).toContain('HF_HUB_CACHE=');
  });

  it('passes when the weights are cached, whatever the free space', () => {
    expect(evaluateProbe(input(disk(0), { cached: { ggufCached: true } })).status).toBe('ready');
  });

  it('explains that HF_HUB_OFFLINE forbids the download', () => {
    const report = evaluateProbe(input(machine(), { offline: true }));
    expect(report.status).toBe('skipped');
    expect(check(report, 'disk').reason).toBe('HF_HUB_OFFLINE is set and the GGUF weights are not cached');
  });
});

describe('python', () => {
  it('fails Python 3.8 with a hint naming ATOMR_INFER_PYTHON', () => {
    const report = evaluateProbe(input(machine({ python: pythonFacts('python-env-python38.json') })));
    const python = check(report, 'python');
    expect(python).toMatchObject({ ok: false, reason: 'vLLM needs Python 3.10 or newer' });
    expect(python.hint).toContain('ATOMR_INFER_PYTHON=');
  });

  it('reports a missing interpreter without crashing the other checks', () => {
    const report = evaluateProbe(input(machine({ python: { status: 'not-found', interpreter: 'python3' } })));
    expect(check(report, 'python')).toMatchObject({
      ok: false,
      value: 'not found',
      reason: '"python3" on PATH is not an executable',
    });
    expect(check(report, 'vllm')).toMatchObject({ ok: false, value: 'unknown' });
    expect(report.status).toBe('ready');
  });
});

describe('cpu offload (vLLM accounting: weights − offload + activations + non-torch + KV ≤ total × util)', () => {
  it('is zero when the real E4B weights (14.9 GiB) and a 131072-token KV cache fit the share vLLM reserves', () => {
    const [gpu] = nvidiaGpus('nvidia-smi-1gpu.csv'); // NVIDIA L4, 22.5 GiB
    expect(derivedCpuOffloadGiB(settings({ ATOMR_INFER_GEMMA_GPU_UTIL: '0.9' }), 14.89, gpu!)).toBe(0);
  });

  it('offloads the shortfall, rounded up to 0.5 GiB, when only the movable weights are too many', () => {
    const gpu = { ...nvidiaGpus('nvidia-smi-1gpu.csv')[0]!, totalGiB: 16, freeGiB: 15.5 };
    // E2B-it: 9.54 + 2 + 1 + 0.85 = 13.39 GiB needed; 0.75 × 16 = 12 GiB reserved: 1.39 short → 1.5 GiB.
    const s = settings({
      ATOMR_INFER_GEMMA_GPU_UTIL: '0.75',
      ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it',
    });
    expect(derivedCpuOffloadGiB(s, 9.54, gpu)).toBe(1.5);
    const report = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [gpu], visible: [gpu] } }), {
        token: TOKEN,
        settings: s,
      }),
    );
    expect(report.config).toMatchObject({ runtime: 'vllm', cpu_offload_gb: 1.5 });
  });

  it('refuses vLLM on an 8 GiB card: the PLE table and towers alone leave no room (the old 4.5 GiB floor said yes)', () => {
    const gpu = { ...nvidiaGpus('nvidia-smi-1gpu.csv')[0]!, totalGiB: 8, freeGiB: 7.5 };
    const report = evaluateProbe(
      input(machine({ ...GPU_MACHINE, gpu: { status: 'ok', all: [gpu], visible: [gpu] } }), {
        token: TOKEN,
        settings: settings({ ATOMR_INFER_GEMMA_GPU_UTIL: '0.9' }),
      }),
    );
    expect(report.runtime).toBe('llama-cpp');
    expect(check(report, 'vram')).toMatchObject({ ok: false });
    expect(check(report, 'vram').reason).toMatch(
      /google\/gemma-4-E4B-it needs 11\.\d GiB of GPU memory \(weights that stay on the GPU 6\.\d GiB \+ activations 2\.0 GiB \+ non-torch 1\.0 GiB \+ KV cache 2\.\d GiB for 131072 tokens\)/,
    );
  });
});

describe('report', () => {
  it('still reports, and says so, when auto-provisioning is off', () => {
    const report = evaluateProbe(input(machine(), { settings: settings({ ATOMR_INFER_GEMMA_AUTO: 'off' }) }));
    expect(report).toMatchObject({ status: 'ready', autoProvision: 'off' });
    expect(report.notes?.[0]).toContain('auto-provisioning is disabled (ATOMR_INFER_GEMMA_AUTO=off)');
  });

  it('marks systeminformation trouble on the system check and still decides', () => {
    const report = evaluateProbe(
      input(machine({}, { error: 'systeminformation did not answer within 3 s' })),
    );
    expect(check(report, 'system')).toMatchObject({ ok: false });
    expect(check(report, 'system').reason).toContain('did not answer within 3 s');
    expect(report.status).toBe('ready');
  });

  it('lists visible NVIDIA GPUs and other GPUs without parser internals', () => {
    const report = evaluateProbe(input(machine(GPU_MACHINE), { token: TOKEN }));
    expect(report.gpus).toHaveLength(1);
    expect(Object.keys(report.gpus[0]!).sort()).toEqual([
      'driverVersion',
      'freeGiB',
      'index',
      'name',
      'totalGiB',
      'usedGiB',
      'uuid',
      'vendor',
    ]);
  });
});
