import { getVariant, type VariantId } from '../core/catalog.js';
import { ENV } from '../core/env-names.js';
import type { Settings } from '../core/settings.js';
import {
  describeGpu,
  gpuCheck,
  pythonCheck,
  systemCheck,
  tokenCheck,
  vllmCheck,
  type GatingFacts,
  type TokenFacts,
} from './checks.js';
import type { HubFacts } from './hub-facts.js';
import {
  diskCheck,
  llamaCppGpu,
  ramCheck,
  vramCheck,
  type DiskAssessment,
  type RamAssessment,
  type VramAssessment,
} from './memory-checks.js';
import { llamaCppReadyConfig, vllmReadyConfig } from './ready-config.js';
import type { MachineFacts } from './scan.js';
import type { CheckName, CheckResult, ProbeReport } from './types.js';
import { formatGiB } from './units.js';
import type { WeightsFacts } from './weights-facts.js';

/**
 * From facts to a verdict. `auto` picks vLLM when every vLLM check passes, else llama.cpp when its weights fit,
 * else skipped; a forced runtime is judged alone. A skipped verdict names every blocker and one next step.
 */

export interface EvaluationInput {
  settings: Settings;
  facts: MachineFacts;
  /** The weights facts for a variant (called again for the smaller fallback variant). */
  weightsFor(model: VariantId): WeightsFacts;
  token: TokenFacts;
  /** What the Hub said about the model's repos (for the model asked about; a fallback variant uses the catalog). */
  hub?: HubFacts;
  /** HF_HUB_OFFLINE is set. */
  offline: boolean;
  endpoint: string;
  /** ATOMR_INFER_PYTHON chose the interpreter (rather than `python3` on PATH). */
  pythonFromEnv: boolean;
}

type Runtime = 'vllm' | 'llama-cpp';

interface Blocker {
  name: CheckName;
  reason: string;
  hint?: string;
}

interface Assessment {
  weights: WeightsFacts;
  checks: Omit<Record<CheckName, CheckResult>, 'disk'>;
  vram: VramAssessment;
  ram: RamAssessment;
  disk: DiskAssessment;
  blockers: Record<Runtime, Blocker[]>;
}

function assess(input: EvaluationInput, model: VariantId): Assessment {
  const settings: Settings = { ...input.settings, model };
  const { facts } = input;
  const weights = input.weightsFor(model);
  const python = pythonCheck(facts.python, input.pythonFromEnv);
  const vllm = vllmCheck(facts.python, python.ok);
  const token = tokenCheck(
    input.token,
    weights.vllm.repo,
    weights.vllm.cached,
    input.endpoint,
    gatingFor(input, model),
  );
  const vram = vramCheck(facts, settings, weights);
  const fallbackFits = (fallback: VariantId): boolean => {
    const smaller = assess(input, fallback);
    return smaller.blockers['llama-cpp'].length === 0;
  };
  const ram = ramCheck(facts, settings, weights, fallbackFits);
  const disk = diskCheck(facts, weights, input.offline);
  const failing = (checks: CheckResult[]): Blocker[] =>
    checks
      .filter((check) => !check.ok)
      .map((check) => ({
        name: check.name,
        reason: check.reason ?? check.value,
        ...(check.hint ? { hint: check.hint } : {}),
      }));
  const diskBlocker = (problem: DiskAssessment['vllm']): Blocker[] =>
    problem ? [{ name: 'disk', reason: problem.reason, hint: problem.hint }] : [];
  return {
    weights,
    checks: {
      gpu: gpuCheck(facts.gpu),
      system: systemCheck(facts.system),
      python,
      vllm,
      'hf-token': token,
      vram: vram.check,
      ram: ram.check,
    },
    vram,
    ram,
    disk,
    blockers: {
      // Most fundamental first: without a GPU, installing vLLM or logging in is beside the point.
      vllm: [...failing([vram.check, python, vllm, token]), ...diskBlocker(disk.vllm)],
      'llama-cpp': [...failing([ram.check]), ...diskBlocker(disk.llamaCpp)],
    },
  };
}

/** The Hub's answer for the model it was asked about; the catalog's `gated` for any other (a fallback variant). */
function gatingFor(input: EvaluationInput, model: VariantId): GatingFacts {
  const hub = input.hub;
  if (hub && hub.vllm.repo === model) {
    return {
      gated: hub.vllm.gated,
      ...(hub.vllm.refused ? { refused: true } : {}),
      source: hub.source === 'catalog' ? 'catalog' : hub.source,
    };
  }
  return { gated: getVariant(model).gated, source: 'catalog' };
}

function chooseRuntime(assessment: Assessment, requested: Settings['runtime']): Runtime | null {
  const candidates: Runtime[] = requested === 'auto' ? ['vllm', 'llama-cpp'] : [requested];
  return candidates.find((runtime) => assessment.blockers[runtime].length === 0) ?? null;
}

const RUNTIME_NAMES: Record<Runtime, string> = { vllm: 'vLLM', 'llama-cpp': 'llama.cpp' };

function describeBlockers(blockers: Blocker[]): string {
  return blockers.map((blocker) => `${blocker.name}: ${blocker.reason}`).join('; ');
}

export function evaluateProbe(input: EvaluationInput): ProbeReport {
  const { settings, facts } = input;
  const assessment = assess(input, settings.model);
  const runtime = chooseRuntime(assessment, settings.runtime);
  // The disk check speaks for the runtime the verdict is about: the chosen one, the forced one, or llama.cpp
  // (the last resort) when auto finds none.
  const target: Runtime = runtime ?? (settings.runtime === 'auto' ? 'llama-cpp' : settings.runtime);
  const { checks } = assessment;
  const allChecks: CheckResult[] = [
    checks.gpu,
    checks.system,
    checks.python,
    checks.vllm,
    checks['hf-token'],
    checks.vram,
    assessment.disk.check(target),
    checks.ram,
  ];

  const notes: string[] = [];
  if (settings.auto !== 'on') {
    notes.push(
      `auto-provisioning is disabled (${ENV.auto}=${settings.auto}): provision and chat will not set the model up`,
    );
  }
  const { weights } = assessment;
  if (input.hub?.note) notes.push(input.hub.note);
  if (weights.vllm.sizeSource === 'estimate' || weights.gguf.sizeSource === 'estimate') {
    notes.push('download sizes are the catalog’s estimates until the weights are pulled');
  }

  const llamaGpu = llamaCppGpu(facts);
  const selectedGpu =
    runtime === 'vllm' ? assessment.vram.gpu : runtime === 'llama-cpp' ? llamaGpu?.gpu : undefined;
  const base = {
    model: settings.model,
    requestedRuntime: settings.runtime,
    deployment: settings.deployment,
    autoProvision: settings.auto,
    checks: allChecks,
    gpus: [...(facts.gpu.status === 'ok' ? facts.gpu.visible.map(publicGpu) : []), ...facts.system.otherGpus],
    weights: {
      hubCache: facts.cacheDir,
      vllm: { ...weights.vllm },
      gguf: {
        source: weights.gguf.label,
        cached: weights.gguf.cached,
        ...(weights.gguf.path ? { path: weights.gguf.path } : {}),
        sizeGiB: weights.gguf.sizeGiB,
        sizeSource: weights.gguf.sizeSource,
      },
    },
    ...(selectedGpu ? { selectedGpu: publicGpu(selectedGpu) } : {}),
    ...(input.hub
      ? {
          hub: {
            source: input.hub.source,
            vllm: { repo: input.hub.vllm.repo, gated: input.hub.vllm.gated },
            ...(input.hub.gguf ? { gguf: { repo: input.hub.gguf.repo, gated: input.hub.gguf.gated } } : {}),
          },
        }
      : {}),
  };

  if (runtime === 'vllm' && assessment.vram.gpu) {
    return {
      ...base,
      status: 'ready',
      runtime,
      reason: `vLLM on ${describeGpu(assessment.vram.gpu)} with ${formatGiB(assessment.vram.gpu.freeGiB ?? 0)} free VRAM`,
      config: vllmReadyConfig(settings, weights, assessment.vram.gpu),
      ...(notes.length ? { notes } : {}),
    };
  }
  if (runtime === 'llama-cpp') {
    const where =
      assessment.ram.fitsIn === 'vram' && llamaGpu
        ? `the GPU (${llamaGpu.gpu.name})`
        : llamaGpu
          ? `CPU and GPU (${llamaGpu.gpu.name})`
          : 'the CPU';
    const vllmBlockers = assessment.blockers.vllm;
    const [first, ...more] = vllmBlockers;
    const why =
      settings.runtime === 'auto' && first
        ? `; vLLM is not used: ${describeBlockers([first])}${more.length ? ` (and ${more.length} more: see the checks)` : ''}`
        : '';
    // Worth saying only when vLLM is one install or login away on a GPU that can hold the model.
    const nearVllm =
      settings.runtime === 'auto' &&
      assessment.checks.vram.ok &&
      vllmBlockers.every((blocker) => ['python', 'vllm', 'hf-token'].includes(blocker.name));
    const hint = nearVllm ? vllmBlockers.find((blocker) => blocker.hint)?.hint : undefined;
    return {
      ...base,
      status: 'ready',
      runtime,
      reason: `llama.cpp on ${where}${why}`,
      ...(hint ? { hint: `for vLLM on this GPU: ${hint}` } : {}),
      config: llamaCppReadyConfig(
        settings,
        weights,
        assessment.ram.contextSize,
        facts.system.cpu,
        llamaGpu?.backend,
      ),
      ...(notes.length ? { notes } : {}),
    };
  }

  const considered: Runtime[] = settings.runtime === 'auto' ? ['vllm', 'llama-cpp'] : [settings.runtime];
  const reason =
    settings.runtime === 'auto'
      ? `no runtime can serve ${settings.model} here: ${considered
          .map((r) => `${RUNTIME_NAMES[r]} (${describeBlockers(assessment.blockers[r])})`)
          .join('; ')}`
      : `${RUNTIME_NAMES[settings.runtime]} cannot serve ${settings.model} here (requested runtime ${settings.runtime}): ${describeBlockers(assessment.blockers[settings.runtime])}`;
  return {
    ...base,
    status: 'skipped',
    runtime: null,
    reason,
    hint: skippedHint(input, assessment, considered),
    config: null,
    ...(notes.length ? { notes } : {}),
  };
}

/** The one next step: the smaller variant when it would be ready, else the nearest runtime's first fix. */
function skippedHint(input: EvaluationInput, assessment: Assessment, considered: Runtime[]): string {
  const fallback = getVariant(input.settings.model).fallback as VariantId | null;
  if (fallback && chooseRuntime(assess(input, fallback), input.settings.runtime)) {
    return `the smaller ${fallback} fits this machine: ${ENV.model}=${fallback} (or --model ${fallback})`;
  }
  // llama.cpp needs least, so its fix is the nearest one in auto mode.
  const order = [...considered].reverse();
  for (const runtime of order) {
    const hint = assessment.blockers[runtime].find((blocker) => blocker.hint)?.hint;
    if (hint) return hint;
  }
  return 'run `atomr-infer probe` on a machine with more memory, or see docs/probe.md';
}

/** GpuInfo without parser internals (the `unavailable` list stays out of the stable schema). */
function publicGpu<T extends ProbeReport['gpus'][number]>(gpu: T): ProbeReport['gpus'][number] {
  const { index, uuid, name, totalGiB, usedGiB, freeGiB, driverVersion, vendor } = gpu;
  return { index, uuid, name, totalGiB, usedGiB, freeGiB, driverVersion, vendor };
}
