import { ENV } from '../core/env-names.js';
import { getVariant, type VariantId } from '../core/catalog.js';
import type { Settings } from '../core/settings.js';
import { describeGpu } from './checks.js';
import { bestGpu } from './nvidia-smi.js';
import {
  DISK_HEADROOM_GIB,
  LLAMACPP_CONTEXT_CANDIDATES,
  llamaCppNeedGiB,
  vllmMemoryPlan,
  type VllmMemoryPlan,
} from './requirements.js';
import type { MachineFacts } from './scan.js';
import type { CheckResult, GpuInfo } from './types.js';
import type { WeightsFacts } from './weights-facts.js';
import { bytesToGiB, formatGiB, formatNeedGiB } from './units.js';

/** The vram, ram and disk checks: free memory and space against what the variant needs. */

export interface VramAssessment {
  check: CheckResult;
  gpu?: GpuInfo;
}

export function vramCheck(facts: MachineFacts, settings: Settings, weights: WeightsFacts): VramAssessment {
  const variant = getVariant(settings.model);
  const util = settings.gpuMemoryUtilization;
  const planFor = (totalGiB: number): VllmMemoryPlan =>
    vllmMemoryPlan(variant, weights.vllm.sizeGiB, totalGiB, util, settings.maxModelLen, settings.media);
  const fail = (value: string, reason: string, hint?: string): VramAssessment => ({
    check: { name: 'vram', ok: false, value, reason, ...(hint ? { hint } : {}), runtime: 'vllm' },
  });
  const gpu = facts.gpu;
  // Only a forced vLLM needs telling where else to go: auto falls back to llama.cpp by itself.
  const elsewhere =
    settings.runtime === 'vllm'
      ? `use llama.cpp instead: ${ENV.runtime}=llama-cpp (or --runtime auto)`
      : undefined;
  if (gpu.status === 'absent') {
    const least = planFor(0).minNeedGiB;
    return fail(
      'no NVIDIA GPU',
      `vLLM needs an NVIDIA GPU with ${formatNeedGiB(least)} for ${settings.model}`,
      elsewhere,
    );
  }
  if (gpu.status === 'failed') return fail('unknown', 'nvidia-smi failed, so free VRAM is unknown', gpu.hint);
  if (gpu.visible.length === 0) {
    return fail(
      'no NVIDIA GPU visible',
      gpu.note ?? 'CUDA sees no GPU',
      'unset CUDA_VISIBLE_DEVICES, or list a GPU index or UUID in it',
    );
  }
  const best = bestGpu(gpu.visible);
  if (!best || best.freeGiB === null || best.totalGiB === null) {
    return fail(
      'free VRAM unknown',
      'nvidia-smi reports no free memory figure ([N/A] or [Insufficient Permissions])',
      `run \`nvidia-smi -q -d MEMORY\` to check, or use llama.cpp: ${ENV.runtime}=llama-cpp`,
    );
  }
  const where = `${formatGiB(best.freeGiB)} free on ${describeGpu(best)}`;
  const free = best.freeGiB;
  const total = best.totalGiB;
  const plan = planFor(total);
  const reserved = plan.budgetGiB;
  const share = `gpu_memory_utilization ${util} × ${formatGiB(total)} = ${formatNeedGiB(reserved)}`;
  const freeMore = 'free GPU memory: `nvidia-smi` lists the processes using it';
  if (plan.cpuOffloadGiB === undefined) {
    // Even with every movable weight offloaded to the CPU, vLLM's accounting does not fit its share of the GPU.
    const utilNeeded = Math.ceil((plan.minNeedGiB / total) * 100) / 100;
    const raise =
      utilNeeded <= 0.95 && utilNeeded * total <= free
        ? `let vLLM use more of the GPU: ${ENV.gpuMemoryUtilization}=${utilNeeded.toFixed(2)}`
        : undefined;
    const smaller = smallerVariantHint(settings.model, (fallback) => {
      const other = vllmMemoryPlan(
        getVariant(fallback),
        bytesToGiB(getVariant(fallback).safetensorsBytes),
        total,
        util,
        settings.maxModelLen,
        settings.media,
      );
      return other.cpuOffloadGiB !== undefined && reserved <= free;
    });
    return {
      ...fail(
        where,
        `${settings.model} needs ${formatNeedGiB(plan.minNeedGiB)} of GPU memory (${describePlan(plan, true)}) but vLLM may use ${share}`,
        raise ?? smaller ?? elsewhere ?? freeMore,
      ),
      gpu: best,
    };
  }
  if (reserved > free) {
    const suggested = Math.floor((free / total) * 100 - 1) / 100;
    const hint =
      suggested > 0 && suggested * total >= plan.minNeedGiB
        ? `lower the share vLLM reserves: ${ENV.gpuMemoryUtilization}=${suggested.toFixed(2)}`
        : freeMore;
    return {
      ...fail(where, `${share} is more than is free, and vLLM refuses to start`, hint),
      gpu: best,
    };
  }
  const offload = plan.cpuOffloadGiB > 0 ? `, ${plan.cpuOffloadGiB} GiB of weights offloaded to the CPU` : '';
  return {
    check: {
      name: 'vram',
      ok: true,
      value: `${where}; vLLM reserves ${formatNeedGiB(reserved)} (${util} × ${formatGiB(total)}) and needs ${formatNeedGiB(plan.needGiB)} (${describePlan(plan, false)})${offload}`,
      runtime: 'vllm',
    },
    gpu: best,
  };
}

/** `weights 14.9 GiB + activations 2.0 GiB + non-torch 1.0 GiB + KV cache 2.2 GiB for 131072 tokens`. */
function describePlan(plan: VllmMemoryPlan, resident: boolean): string {
  const weights = resident
    ? `weights that stay on the GPU ${formatNeedGiB(plan.residentGiB)}`
    : `weights ${formatNeedGiB(plan.weightsGiB)}`;
  return `${weights} + activations ${formatNeedGiB(plan.activationGiB)} + non-torch ${formatNeedGiB(plan.nonTorchGiB)} + KV cache ${formatNeedGiB(plan.kvCacheGiB)} for ${plan.maxModelLen} tokens`;
}

/** `the smaller X fits: ATOMR_INFER_GEMMA_MODEL=X` when the variant has a fallback that passes `fits`. */
export function smallerVariantHint(
  model: VariantId,
  fits: (fallback: VariantId) => boolean,
): string | undefined {
  const fallback = getVariant(model).fallback as VariantId | null;
  if (!fallback || !fits(fallback)) return undefined;
  return `use the smaller ${fallback}: ${ENV.model}=${fallback} (or --model ${fallback})`;
}

export interface RamAssessment {
  check: CheckResult;
  contextSize: number;
  /** Where the weights fit: a GPU's memory, or RAM. */
  fitsIn?: 'vram' | 'ram';
}

/** The GPU llama.cpp would offload to: a visible NVIDIA GPU (CUDA), Apple silicon (Metal), an AMD GPU (Vulkan). */
export function llamaCppGpu(
  facts: MachineFacts,
): { gpu: GpuInfo; backend: 'cuda' | 'metal' | 'vulkan' } | undefined {
  if (facts.gpu.status === 'ok') {
    const nvidia = bestGpu(facts.gpu.visible);
    if (nvidia) return { gpu: nvidia, backend: 'cuda' };
  }
  const apple = facts.system.otherGpus.find((gpu) => gpu.vendor === 'apple');
  if (apple) return { gpu: apple, backend: 'metal' };
  const amd = bestGpu(facts.system.otherGpus.filter((gpu) => gpu.vendor === 'amd'));
  if (amd) return { gpu: amd, backend: 'vulkan' };
  return undefined;
}

export function ramCheck(
  facts: MachineFacts,
  settings: Settings,
  weights: WeightsFacts,
  fallbackFits?: (fallback: VariantId) => boolean,
): RamAssessment {
  const base = { name: 'ram' as const, runtime: 'llama-cpp' as const };
  const { gguf } = weights;
  const contexts = settings.maxModelLen ? [settings.maxModelLen] : [...LLAMACPP_CONTEXT_CANDIDATES];
  const largest = contexts[0] ?? 2048;
  if (gguf.missingLocal) {
    return {
      check: {
        ...base,
        ok: false,
        value: 'GGUF file missing',
        reason: `${ENV.ggufOverride} points to ${gguf.label}, which does not exist`,
        hint: `fix the path, or unset ${ENV.ggufOverride} to use ${getVariant(settings.model).gguf.repo}`,
      },
      contextSize: largest,
    };
  }
  const ram = facts.system.memory.availableGiB;
  const accelerator = llamaCppGpu(facts);
  // Unified memory is the RAM itself: counting it twice would promise too much.
  const vram = accelerator && accelerator.backend !== 'metal' ? (accelerator.gpu.freeGiB ?? 0) : 0;
  const approx = gguf.sizeSource === 'estimate' ? '≈' : '';
  for (const contextSize of contexts) {
    const need = llamaCppNeedGiB(gguf.sizeGiB, contextSize);
    const fitsIn = vram >= need ? 'vram' : ram >= need ? 'ram' : undefined;
    if (!fitsIn) continue;
    const room =
      fitsIn === 'vram' && accelerator
        ? `${formatGiB(vram)} free on ${describeGpu(accelerator.gpu)}`
        : `${formatGiB(ram)} RAM available`;
    const shrunk =
      contextSize < largest ? `context reduced from ${largest} to ${contextSize} tokens to fit` : undefined;
    return {
      check: {
        ...base,
        ok: true,
        value: `needs ${approx}${formatNeedGiB(need)} (GGUF ${approx}${formatNeedGiB(gguf.sizeGiB)} + ${contextSize}-token context); ${room}`,
        ...(shrunk ? { reason: shrunk } : {}),
      },
      contextSize,
      fitsIn,
    };
  }
  const smallest = contexts[contexts.length - 1] ?? largest;
  const need = llamaCppNeedGiB(gguf.sizeGiB, smallest);
  const hint =
    (fallbackFits ? smallerVariantHint(settings.model, fallbackFits) : undefined) ??
    (settings.maxModelLen && settings.maxModelLen > 2048
      ? `shorten the context: ${ENV.maxModelLen}=2048`
      : 'close other programs to free memory, or use a machine with more RAM');
  return {
    check: {
      ...base,
      ok: false,
      value: `${formatGiB(ram)} RAM available${vram > 0 ? `, ${formatGiB(vram)} free VRAM` : ''}`,
      reason: `llama.cpp needs ${approx}${formatNeedGiB(need)} for ${gguf.label} (GGUF ${approx}${formatNeedGiB(gguf.sizeGiB)} + ${smallest}-token context)`,
      hint,
    },
    contextSize: smallest,
  };
}

export interface DiskAssessment {
  /** Per runtime: `undefined` when its weights can be stored (or are cached), else why not. */
  vllm?: { reason: string; hint: string };
  llamaCpp?: { reason: string; hint: string };
  check(target: 'vllm' | 'llama-cpp'): CheckResult;
}

export function diskCheck(facts: MachineFacts, weights: WeightsFacts, offline: boolean): DiskAssessment {
  const disk = facts.disk;
  const place = disk.ok ? disk.value.path : disk.path;
  const free = disk.ok ? disk.value.freeGiB : undefined;
  const moveHint = `point HF_HUB_CACHE at a disk with more free space (e.g. HF_HUB_CACHE=/mnt/data/huggingface/hub)`;

  const assess = (
    label: string,
    cached: boolean,
    sizeGiB: number,
    estimate: boolean,
  ): { reason: string; hint: string } | undefined => {
    if (cached) return undefined;
    if (offline) {
      return {
        reason: `HF_HUB_OFFLINE is set and the ${label} are not cached`,
        hint: `unset HF_HUB_OFFLINE to download them, or copy them into ${facts.cacheDir}`,
      };
    }
    if (!disk.ok) return { reason: disk.error, hint: moveHint };
    const need = sizeGiB + DISK_HEADROOM_GIB;
    if ((free ?? 0) >= need) return undefined;
    return {
      reason: `the ${label} need ${estimate ? '≈' : ''}${formatNeedGiB(need)} but ${formatGiB(free ?? 0)} is free at ${place}`,
      hint: moveHint,
    };
  };
  const localGguf = weights.gguf.spec.kind === 'local';
  const vllm = assess(
    'vLLM weights',
    weights.vllm.cached,
    weights.vllm.sizeGiB,
    weights.vllm.sizeSource === 'estimate',
  );
  const llamaCpp = assess(
    'GGUF weights',
    weights.gguf.cached || localGguf,
    weights.gguf.sizeGiB,
    weights.gguf.sizeSource === 'estimate',
  );

  const describe = (cached: boolean, sizeGiB: number, estimate: boolean): string =>
    cached ? 'cached' : `${estimate ? '≈' : ''}${formatNeedGiB(sizeGiB)} to download`;
  // The cache may not exist yet: then the free space of the disk it will be created on is what counts.
  const at = place === facts.cacheDir ? place : `${facts.cacheDir} (not created yet; measured at ${place})`;
  const value = [
    free === undefined ? `free space unknown at ${facts.cacheDir}` : `${formatGiB(free)} free at ${at}`,
    `vLLM weights ${describe(weights.vllm.cached, weights.vllm.sizeGiB, weights.vllm.sizeSource === 'estimate')}`,
    `GGUF ${localGguf ? 'local file' : describe(weights.gguf.cached, weights.gguf.sizeGiB, weights.gguf.sizeSource === 'estimate')}`,
  ].join('; ');

  return {
    ...(vllm ? { vllm } : {}),
    ...(llamaCpp ? { llamaCpp } : {}),
    check(target) {
      const problem = target === 'vllm' ? vllm : llamaCpp;
      if (problem) return { name: 'disk', ok: false, value, reason: problem.reason, hint: problem.hint };
      const other = target === 'vllm' ? llamaCpp : vllm;
      return { name: 'disk', ok: true, value, ...(other ? { reason: other.reason } : {}) };
    },
  };
}
