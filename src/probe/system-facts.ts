import { readFile, readdir } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner } from '../core/subprocess.js';
import type { GpuInfo } from './types.js';
import { BYTES_PER_GIB, BYTES_PER_MIB, roundGiB } from './units.js';

/**
 * CPU cores and the non-NVIDIA GPUs the llama.cpp path can use (AMD through Vulkan, Apple through Metal).
 * Cheap sources first: on Linux /proc/cpuinfo and /sys/class/drm answer in microseconds, while
 * systeminformation's cpu() and graphics() spawn lscpu, dmidecode, lspci and even nvidia-smi (~30-40 ms each
 * measured here, and nvidia-smi may hang). systeminformation is used only where no such file exists (macOS), and
 * Windows is asked through PowerShell under a timeout.
 */

export interface CpuFacts {
  /** Physical cores usable by this process. */
  physical: number;
  /** Logical CPUs usable by this process (affinity respected). */
  logical: number;
}

export interface PlatformOptions {
  /** Filesystem root for /proc and /sys (tests point it at a fixture tree). */
  root?: string;
  /** Runs the Windows GPU query (PowerShell) with a timeout. */
  commands?: CommandRunner;
  platform?: NodeJS.Platform;
  arch?: string;
}

export async function readCpuCores(options: PlatformOptions = {}): Promise<CpuFacts> {
  const platform = options.platform ?? process.platform;
  const logical = Math.max(1, availableParallelism());
  let physical: number | undefined;
  if (platform === 'linux') {
    try {
      physical = physicalCoresFromCpuinfo(await readFile(join(options.root ?? '/', 'proc/cpuinfo'), 'utf8'));
    } catch {
      physical = undefined;
    }
  } else {
    try {
      const { default: si } = await import('systeminformation/lib/cpu.js');
      physical = (await si.cpu()).physicalCores || undefined;
    } catch {
      physical = undefined;
    }
  }
  // A container's CPU set can be smaller than the host's cores.
  return { physical: Math.max(1, Math.min(physical ?? logical, logical)), logical };
}

/** Unique (physical id, core id) pairs; `undefined` when the file does not say (many ARM kernels). */
export function physicalCoresFromCpuinfo(text: string): number | undefined {
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const socket = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (socket !== undefined && core !== undefined) cores.add(`${socket}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

const PCI_VENDORS: Record<string, GpuInfo['vendor']> = {
  '0x1002': 'amd',
  '0x8086': 'intel',
  '0x106b': 'apple',
};

/** Non-NVIDIA GPUs. NVIDIA ones come from nvidia-smi, which knows their free memory and CUDA visibility. */
export async function readOtherGpus(
  options: PlatformOptions & { memory?: { totalGiB: number; availableGiB: number } } = {},
): Promise<GpuInfo[]> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  if (platform === 'linux') return readDrmGpus(options.root ?? '/');
  if (platform === 'darwin' && arch === 'arm64') {
    // Apple silicon: one GPU sharing the machine's RAM (unified memory), driven through Metal.
    return [
      {
        index: 0,
        uuid: '',
        name: cpus()[0]?.model ?? 'Apple silicon',
        totalGiB: options.memory?.totalGiB ?? null,
        usedGiB: null,
        freeGiB: options.memory?.availableGiB ?? null,
        driverVersion: null,
        vendor: 'apple',
      },
    ];
  }
  if (platform === 'win32') return options.commands ? readWindowsGpus(options.commands) : [];
  // Intel Macs (and other systems): system_profiler through systeminformation. Not used on Linux or Windows,
  // where si.graphics() runs nvidia-smi with execFileSync and no timeout: a hung driver would freeze the probe.
  try {
    const { default: si } = await import('systeminformation/lib/graphics.js');
    return gpusFromSiControllers((await si.graphics()).controllers);
  } catch {
    return [];
  }
}

export const WINDOWS_GPU_QUERY = [
  '-NoProfile',
  '-NonInteractive',
  '-Command',
  'Get-CimInstance Win32_VideoController | Select-Object Name,AdapterCompatibility,AdapterRAM,DriverVersion | ConvertTo-Json -Compress',
];

/** Windows: the video controllers CIM lists, under the probe's own timeout (AdapterRAM caps at 4 GiB there). */
async function readWindowsGpus(commands: CommandRunner): Promise<GpuInfo[]> {
  const result = await commands.run('powershell.exe', WINDOWS_GPU_QUERY, { timeoutMs: 2_500 });
  return result.exitCode === 0 ? gpusFromWindowsControllers(result.stdout) : [];
}

/** Parses `ConvertTo-Json` output of Win32_VideoController (one object, or an array of them). */
export function gpusFromWindowsControllers(json: string): GpuInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const list = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  return gpusFromSiControllers(
    list
      .filter((item) => item && typeof item === 'object')
      .map((item) => ({
        vendor: typeof item.AdapterCompatibility === 'string' ? item.AdapterCompatibility : '',
        model: typeof item.Name === 'string' ? item.Name : '',
        vram: typeof item.AdapterRAM === 'number' ? item.AdapterRAM / BYTES_PER_MIB : null,
        ...(typeof item.DriverVersion === 'string' ? { driverVersion: item.DriverVersion } : {}),
      })),
  );
}

/** The fields of systeminformation's GraphicsControllerData the probe reads (vram in MiB). */
export interface SiController {
  vendor: string;
  model: string;
  vram: number | null;
  vramDynamic?: boolean;
  memoryFree?: number;
  driverVersion?: string;
}

export function gpusFromSiControllers(controllers: readonly SiController[]): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const controller of controllers) {
    const label = `${controller.vendor} ${controller.model}`;
    if (/nvidia/i.test(label)) continue;
    const vendor: GpuInfo['vendor'] = /\b(amd|ati|advanced micro devices|radeon)\b/i.test(label)
      ? 'amd'
      : /\bapple\b/i.test(label)
        ? 'apple'
        : /\bintel\b/i.test(label)
          ? 'intel'
          : 'other';
    const mib = (value: number | null | undefined): number | null =>
      typeof value === 'number' && value > 0 ? roundGiB((value * BYTES_PER_MIB) / BYTES_PER_GIB) : null;
    gpus.push({
      index: gpus.length,
      uuid: '',
      name: controller.model || controller.vendor || 'GPU',
      totalGiB: mib(controller.vram),
      usedGiB: null,
      freeGiB: mib(controller.memoryFree),
      driverVersion: controller.driverVersion || null,
      vendor,
    });
  }
  return gpus;
}

/** /sys/class/drm/cardN/device: PCI vendor id; amdgpu also exposes VRAM size and use in bytes. */
async function readDrmGpus(root: string): Promise<GpuInfo[]> {
  const drm = join(root, 'sys/class/drm');
  let cards: string[];
  try {
    cards = (await readdir(drm)).filter((name) => /^card\d+$/.test(name));
  } catch {
    return [];
  }
  const read = async (card: string, file: string): Promise<string | undefined> => {
    try {
      return (await readFile(join(drm, card, 'device', file), 'utf8')).trim();
    } catch {
      return undefined;
    }
  };
  const gpus: GpuInfo[] = [];
  for (const card of cards.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
    const vendorId = (await read(card, 'vendor'))?.toLowerCase();
    if (vendorId === undefined || vendorId === '0x10de') continue;
    const vendor = PCI_VENDORS[vendorId] ?? 'other';
    const deviceId = (await read(card, 'device')) ?? '?';
    const total = Number(await read(card, 'mem_info_vram_total'));
    const used = Number(await read(card, 'mem_info_vram_used'));
    const known = Number.isFinite(total) && total > 0;
    const usedKnown = known && Number.isFinite(used);
    const product = await read(card, 'product_name');
    gpus.push({
      index: Number(card.slice(4)),
      uuid: '',
      name: product || `${vendor === 'other' ? 'GPU' : vendor.toUpperCase()} ${vendorId}:${deviceId}`,
      totalGiB: known ? roundGiB(total / BYTES_PER_GIB) : null,
      usedGiB: usedKnown ? roundGiB(used / BYTES_PER_GIB) : null,
      freeGiB: usedKnown ? roundGiB((total - used) / BYTES_PER_GIB) : null,
      driverVersion: null,
      vendor,
    });
  }
  return gpus;
}
