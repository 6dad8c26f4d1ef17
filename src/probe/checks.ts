import { ENV } from '../core/env-names.js';
import type { HfTokenSource } from '../core/paths.js';
import { bestGpu, type ParsedNvidiaGpu } from './nvidia-smi.js';
import { MIN_PYTHON, meetsMinPython } from './python-facts.js';
import type { MachineFacts } from './scan.js';
import type { CheckResult, GpuInfo } from './types.js';
import { formatGiB } from './units.js';

/**
 * The machine checks that do not depend on sizes: gpu, system, python, vllm, hf-token. Pure functions of the
 * gathered facts, so every branch is testable without spawning anything.
 */

export function describeGpu(gpu: GpuInfo): string {
  return `${gpu.name} (GPU ${gpu.index})`;
}

export function gpuCheck(facts: MachineFacts['gpu']): CheckResult {
  if (facts.status === 'absent') {
    return { name: 'gpu', ok: true, value: `no NVIDIA GPU (${facts.detail ?? 'nvidia-smi not found'})` };
  }
  if (facts.status === 'failed') {
    return { name: 'gpu', ok: false, value: 'nvidia-smi error', reason: facts.message, hint: facts.hint };
  }
  const { all, visible, note } = facts;
  const noteField = note ? { reason: note } : {};
  if (visible.length === 0) {
    return {
      name: 'gpu',
      ok: true,
      value: `${all.length} NVIDIA GPU${all.length === 1 ? '' : 's'}, none visible to CUDA`,
      ...noteField,
    };
  }
  const best = bestGpu(visible) ?? visible[0];
  if (!best) return { name: 'gpu', ok: true, value: 'no NVIDIA GPU visible' };
  const count = visible.length === 1 ? '' : `${visible.length} NVIDIA GPUs visible; best: `;
  const memory =
    best.freeGiB !== null && best.totalGiB !== null
      ? `${formatGiB(best.freeGiB)} free of ${formatGiB(best.totalGiB)}`
      : `memory ${unavailableFields(best) || 'unknown'}`;
  const driver = best.driverVersion ? `, driver ${best.driverVersion}` : '';
  const unknown = visible.filter((gpu) => gpu.freeGiB === null);
  const reasons = [
    note,
    unknown.length
      ? `nvidia-smi does not report free memory for ${unknown.map(describeGpu).join(', ')} (${unavailableFields(unknown[0])}: a MIG-enabled GPU or a container without NVML permissions)`
      : undefined,
  ].filter((text): text is string => text !== undefined);
  return {
    name: 'gpu',
    ok: true,
    value: `${count}${describeGpu(best)}: ${memory}${driver}`,
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
  };
}

function unavailableFields(gpu: ParsedNvidiaGpu | undefined): string {
  return (gpu?.unavailable ?? []).filter((field) => field.startsWith('memory')).join(', ');
}

export function systemCheck(system: MachineFacts['system']): CheckResult {
  const { memory, cpu, otherGpus } = system;
  const cores = `${cpu.physical} core${cpu.physical === 1 ? '' : 's'}${cpu.logical !== cpu.physical ? ` (${cpu.logical} threads)` : ''}`;
  const gpus = otherGpus.map((gpu) =>
    gpu.vendor === 'apple'
      ? `${gpu.name} (unified memory, Metal)`
      : `${gpu.name}${gpu.totalGiB !== null ? ` ${formatGiB(gpu.totalGiB)}` : ''}`,
  );
  const value = [
    `${formatGiB(memory.availableGiB)} RAM available of ${formatGiB(memory.totalGiB)}`,
    cores,
    ...gpus,
  ].join(', ');
  const notes = [
    memory.cgroupLimitGiB !== undefined
      ? `limited by the container's memory limit of ${formatGiB(memory.cgroupLimitGiB)}`
      : undefined,
  ].filter((text): text is string => text !== undefined);
  if (system.error) {
    return {
      name: 'system',
      ok: false,
      value,
      reason: `${system.error}; figures from Node's os module instead`,
      hint: 'check that /proc is readable; the probe retries on its next run',
    };
  }
  return { name: 'system', ok: true, value, ...(notes.length ? { reason: notes.join('; ') } : {}) };
}

const PYTHON_HINT = `install Python ${MIN_PYTHON.join('.')} or newer and point ${ENV.python} at it (e.g. ${ENV.python}=/usr/bin/python3.11)`;

export function pythonCheck(facts: MachineFacts['python'], envSet: boolean): CheckResult {
  const base = { name: 'python' as const, runtime: 'vllm' as const };
  const source = envSet ? `${ENV.python}=${facts.interpreter}` : `"${facts.interpreter}" on PATH`;
  if (facts.status === 'not-found') {
    return {
      ...base,
      ok: false,
      value: 'not found',
      reason: `${source} is not an executable`,
      hint: PYTHON_HINT,
    };
  }
  if (facts.status === 'failed') {
    return { ...base, ok: false, value: 'unusable', reason: facts.message, hint: PYTHON_HINT };
  }
  const { version, versionInfo, executable } = facts.env;
  const value = `Python ${version}${executable ? ` (${executable})` : ''}`;
  if (!meetsMinPython(versionInfo)) {
    return {
      ...base,
      ok: false,
      value,
      reason: `vLLM needs Python ${MIN_PYTHON.join('.')} or newer`,
      hint: PYTHON_HINT,
    };
  }
  return { ...base, ok: true, value };
}

export function vllmCheck(facts: MachineFacts['python'], pythonOk: boolean): CheckResult {
  const base = { name: 'vllm' as const, runtime: 'vllm' as const };
  if (facts.status !== 'ok') {
    return { ...base, ok: false, value: 'unknown', reason: 'no usable Python interpreter to look in' };
  }
  const { vllm, version } = facts.env;
  const install = `${facts.interpreter} -m pip install vllm`;
  if (vllm.error) {
    return { ...base, ok: false, value: 'unknown', reason: vllm.error, hint: `reinstall it: ${install}` };
  }
  if (!vllm.found) {
    return {
      ...base,
      ok: false,
      value: 'not installed',
      reason: `Python ${version} cannot find the vllm package`,
      hint: install,
    };
  }
  const value = vllm.version ? `vLLM ${vllm.version}` : 'vLLM (version unknown)';
  if (!pythonOk) {
    return { ...base, ok: false, value, reason: `installed for Python ${version}, which is too old` };
  }
  return {
    ...base,
    ok: true,
    value,
    ...(vllm.version
      ? {}
      : { reason: `found at ${vllm.origin ?? 'an unknown path'} without package metadata` }),
  };
}

export interface TokenFacts {
  source?: HfTokenSource;
  path?: string;
}

/** What is known about a repo's gating: from the Hub (asked now or remembered) or the catalog. */
export interface GatingFacts {
  gated: boolean;
  /** The Hub answered 401/403 to the model-info request. */
  refused?: boolean;
  source: 'hub' | 'remembered' | 'catalog';
}

const LOGIN = '`hf auth login` (or set HF_TOKEN)';

/**
 * A token is needed only to download a gated repo (or one the Hub refuses to describe without one); a token that is
 * set is always used. Only where it comes from is shown, never its value.
 */
export function tokenCheck(
  token: TokenFacts,
  repo: string,
  cached: boolean,
  endpoint: string,
  gating: GatingFacts = { gated: false, source: 'catalog' },
): CheckResult {
  const base = { name: 'hf-token' as const, runtime: 'vllm' as const };
  const where =
    token.source === 'token-file' ? `token file ${token.path ?? ''}`.trim() : (token.source ?? 'not set');
  const value = token.source ? `set (${where})` : 'not set';
  const said = gating.source === 'catalog' ? 'the catalog says' : 'the Hub says';
  if (cached) return { ...base, ok: true, value, reason: `not needed: ${repo} is already cached` };
  if (gating.refused) {
    return {
      ...base,
      ok: false,
      value,
      reason: token.source
        ? `the Hub refuses ${repo} to the token from ${where} (HTTP 401/403): it is gated and that account has no access`
        : `the Hub refuses ${repo} without a token (HTTP 401/403): it is gated or private`,
      hint: `accept the licence at ${endpoint}/${repo} with your account, then run ${LOGIN}`,
    };
  }
  if (!gating.gated) {
    return {
      ...base,
      ok: true,
      value,
      ...(token.source ? {} : { reason: `not needed: ${said} ${repo} is not gated` }),
    };
  }
  if (token.source) return { ...base, ok: true, value };
  return {
    ...base,
    ok: false,
    value,
    reason: `${said} ${repo} is gated, so downloading it needs a Hugging Face token`,
    hint: `accept the licence at ${endpoint}/${repo}, then run ${LOGIN}`,
  };
}
