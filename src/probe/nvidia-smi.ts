import type { GpuInfo } from './types.js';
import { BYTES_PER_GIB, BYTES_PER_MIB, roundGiB } from './units.js';

/**
 * Parsing `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` and applying `CUDA_VISIBLE_DEVICES`.
 * Pure functions: the samples in probes/samples/ feed them directly in tests.
 */

export const NVIDIA_SMI_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'driver_version',
] as const;

export const NVIDIA_SMI_ARGS: readonly string[] = [
  `--query-gpu=${NVIDIA_SMI_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

export interface ParsedNvidiaGpu extends GpuInfo {
  /** Bracketed placeholders nvidia-smi printed instead of numbers, e.g. `memory.free=[N/A]`. */
  unavailable: string[];
}

export type NvidiaSmiParse = { ok: true; gpus: ParsedNvidiaGpu[] } | { ok: false; error: string };

/** `[N/A]`, `[Insufficient Permissions]`, `[Not Supported]`, `[Unknown Error]`… */
function isPlaceholder(field: string): boolean {
  return /^\[.*\]$/.test(field);
}

function mibToGiB(field: string): number | null | 'bad' {
  if (isPlaceholder(field)) return null;
  if (!/^\d+(\.\d+)?$/.test(field)) return 'bad';
  return roundGiB((Number(field) * BYTES_PER_MIB) / BYTES_PER_GIB);
}

export function parseNvidiaSmiCsv(stdout: string): NvidiaSmiParse {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0) return { ok: false, error: 'nvidia-smi printed nothing' };
  const gpus: ParsedNvidiaGpu[] = [];
  for (const line of lines) {
    const fields = line.split(',').map((field) => field.trim());
    const quoted = JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
    if (fields.length !== NVIDIA_SMI_FIELDS.length) {
      return {
        ok: false,
        error: `unexpected nvidia-smi output ${quoted}: expected ${NVIDIA_SMI_FIELDS.length} comma-separated fields`,
      };
    }
    const [index = '', uuid = '', name = '', total = '', used = '', free = '', driver = ''] = fields;
    if (!/^\d+$/.test(index)) {
      return { ok: false, error: `unexpected nvidia-smi output ${quoted}: index is not a number` };
    }
    const memory = { total: mibToGiB(total), used: mibToGiB(used), free: mibToGiB(free) };
    if (memory.total === 'bad' || memory.used === 'bad' || memory.free === 'bad') {
      return { ok: false, error: `unexpected nvidia-smi output ${quoted}: memory is not a number of MiB` };
    }
    const unavailable = NVIDIA_SMI_FIELDS.filter((_, i) => isPlaceholder(fields[i] ?? '')).map(
      (field) => `${field}=${fields[NVIDIA_SMI_FIELDS.indexOf(field)]}`,
    );
    gpus.push({
      index: Number(index),
      uuid: isPlaceholder(uuid) ? '' : uuid,
      name: isPlaceholder(name) ? 'NVIDIA GPU' : name,
      totalGiB: memory.total,
      usedGiB: memory.used,
      freeGiB: memory.free,
      driverVersion: isPlaceholder(driver) ? null : driver,
      vendor: 'nvidia',
      unavailable,
    });
  }
  return { ok: true, gpus };
}

export interface Visibility {
  /** GPUs CUDA would see, in CUDA's order (the order of CUDA_VISIBLE_DEVICES when set). */
  visible: ParsedNvidiaGpu[];
  /** Set when CUDA_VISIBLE_DEVICES changed what is visible: a sentence for the report. */
  note?: string;
}

/**
 * Applies `CUDA_VISIBLE_DEVICES` as the CUDA runtime does: a comma-separated list of indices or UUIDs
 * (a unique UUID prefix is enough; `GPU-` may be omitted); the list stops at the first entry that matches no
 * device; set but empty hides every GPU; unset shows all.
 */
export function applyCudaVisibleDevices(gpus: ParsedNvidiaGpu[], raw: string | undefined): Visibility {
  if (raw === undefined) return { visible: gpus };
  const shown = `CUDA_VISIBLE_DEVICES=${JSON.stringify(raw)}`;
  if (raw.trim() === '') {
    return { visible: [], note: `${shown} is set but empty, so CUDA sees no GPU` };
  }
  const visible: ParsedNvidiaGpu[] = [];
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (entry.toLowerCase().startsWith('mig-')) {
      // MIG instances are CUDA devices of their own that `--query-gpu` does not list: their memory is unknown.
      return {
        visible,
        note: `${shown} names the MIG instance "${entry}", whose memory nvidia-smi --query-gpu does not report`,
      };
    }
    const match = matchDevice(gpus, entry);
    if (!match) {
      const dropped = entries.slice(entries.indexOf(entry)).join(',');
      return {
        visible,
        note:
          `${shown}: "${entry}" matches no GPU, so CUDA ignores "${dropped}"` +
          (visible.length ? '' : ' and sees no GPU'),
      };
    }
    if (!visible.includes(match)) visible.push(match);
  }
  const note =
    visible.length < gpus.length ? `${shown} shows ${visible.length} of ${gpus.length} GPUs` : undefined;
  return note === undefined ? { visible } : { visible, note };
}

function matchDevice(gpus: ParsedNvidiaGpu[], entry: string): ParsedNvidiaGpu | undefined {
  if (/^\d+$/.test(entry)) return gpus.find((gpu) => gpu.index === Number(entry));
  const needle = entry.toLowerCase().replace(/^gpu-/, '');
  if (needle.length === 0) return undefined;
  const matches = gpus.filter((gpu) => gpu.uuid.toLowerCase().replace(/^gpu-/, '').startsWith(needle));
  // An ambiguous prefix is an invalid device for CUDA, like an unknown one.
  return matches.length === 1 ? matches[0] : undefined;
}

/** The visible GPU with the most free VRAM (unknown free memory never wins). */
export function bestGpu<T extends GpuInfo>(gpus: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const gpu of gpus) {
    if (gpu.freeGiB === null) continue;
    if (!best || (best.freeGiB ?? -1) < gpu.freeGiB) best = gpu;
  }
  return best;
}
