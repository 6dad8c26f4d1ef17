import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDiskFree } from '../../src/probe/disk-facts.js';
import { readCgroupLimit, readMemory } from '../../src/probe/memory-facts.js';
import {
  gpusFromSiControllers,
  gpusFromWindowsControllers,
  physicalCoresFromCpuinfo,
  readCpuCores,
  readOtherGpus,
} from '../../src/probe/system-facts.js';

let root: string;
const put = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const GiB = 1024 ** 3;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'atomr-sysroot-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('physical cores', () => {
  const cpu = (socket: number, core: number): string =>
    `processor\t: x\nphysical id\t: ${socket}\ncore id\t\t: ${core}\n`;

  it('counts unique (socket, core) pairs, so hyper-threads do not count twice', () => {
    const text = [cpu(0, 0), cpu(0, 1), cpu(0, 0), cpu(0, 1), cpu(1, 0), cpu(1, 0)].join('\n');
    expect(physicalCoresFromCpuinfo(text)).toBe(3);
  });

  it('says nothing when the kernel does not list core ids (many ARM boards)', () => {
    expect(physicalCoresFromCpuinfo('processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\n')).toBeUndefined();
  });

  it('never reports more physical cores than logical CPUs usable by the process', async () => {
    put('proc/cpuinfo', Array.from({ length: 512 }, (_, i) => cpu(0, i)).join('\n'));
    const cores = await readCpuCores({ root, platform: 'linux' });
    expect(cores.physical).toBeLessThanOrEqual(cores.logical);
  });

  it('falls back to the logical count when /proc/cpuinfo is unreadable', async () => {
    const cores = await readCpuCores({ root, platform: 'linux' });
    expect(cores.physical).toBe(cores.logical);
  });
});

describe('other GPUs on Linux (/sys/class/drm)', () => {
  it('lists an AMD GPU with its VRAM and skips NVIDIA cards and connectors', async () => {
    put('sys/class/drm/card0/device/vendor', '0x10de\n');
    put('sys/class/drm/card1/device/vendor', '0x1002\n');
    put('sys/class/drm/card1/device/device', '0x73bf\n');
    put('sys/class/drm/card1/device/mem_info_vram_total', `${16 * GiB}\n`);
    put('sys/class/drm/card1/device/mem_info_vram_used', `${4 * GiB}\n`);
    put('sys/class/drm/card1-DP-1/status', 'connected\n');
    const gpus = await readOtherGpus({ root, platform: 'linux' });
    expect(gpus).toEqual([
      {
        index: 1,
        uuid: '',
        name: 'AMD 0x1002:0x73bf',
        totalGiB: 16,
        usedGiB: 4,
        freeGiB: 12,
        driverVersion: null,
        vendor: 'amd',
      },
    ]);
  });

  it('lists an Intel GPU without memory figures', async () => {
    put('sys/class/drm/card0/device/vendor', '0x8086\n');
    const [gpu] = await readOtherGpus({ root, platform: 'linux' });
    expect(gpu).toMatchObject({ vendor: 'intel', totalGiB: null, freeGiB: null });
  });

  it('returns nothing on a machine without /sys/class/drm', async () => {
    expect(await readOtherGpus({ root, platform: 'linux' })).toEqual([]);
  });

  it('treats Apple silicon as one GPU sharing RAM (unified memory)', async () => {
    const gpus = await readOtherGpus({
      root,
      platform: 'darwin',
      arch: 'arm64',
      memory: { totalGiB: 32, availableGiB: 20 },
    });
    expect(gpus).toMatchObject([{ vendor: 'apple', totalGiB: 32, freeGiB: 20 }]);
  });
});

describe('gpusFromSiControllers (systeminformation on macOS/Windows)', () => {
  it('maps AMD, Intel and Apple controllers, drops NVIDIA (nvidia-smi covers those), converts MiB to GiB', () => {
    const gpus = gpusFromSiControllers([
      { vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 4090', vram: 24564 },
      { vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Radeon Pro 5500M', vram: 8192 },
      { vendor: 'Intel', model: 'Intel UHD Graphics 630', vram: 1536, vramDynamic: true },
      { vendor: 'Apple', model: 'Apple M2 Max', vram: null, vramDynamic: true },
    ]);
    expect(gpus.map((gpu) => [gpu.vendor, gpu.name, gpu.totalGiB])).toEqual([
      ['amd', 'Radeon Pro 5500M', 8],
      ['intel', 'Intel UHD Graphics 630', 1.5],
      ['apple', 'Apple M2 Max', null],
    ]);
  });
});

describe('other GPUs on Windows (PowerShell CIM query, under a timeout)', () => {
  const answer = JSON.stringify([
    {
      Name: 'AMD Radeon RX 7900 XTX',
      AdapterCompatibility: 'Advanced Micro Devices, Inc.',
      AdapterRAM: 4293918720,
      DriverVersion: '31.0.24027.1012',
    },
    { Name: 'NVIDIA GeForce RTX 4090', AdapterCompatibility: 'NVIDIA', AdapterRAM: 4293918720 },
  ]);

  it('parses one object or an array, drops NVIDIA, and tolerates junk', () => {
    expect(gpusFromWindowsControllers(answer)).toMatchObject([
      { vendor: 'amd', name: 'AMD Radeon RX 7900 XTX', totalGiB: 4 },
    ]);
    expect(
      gpusFromWindowsControllers(
        JSON.stringify({ Name: 'Intel(R) UHD Graphics', AdapterCompatibility: 'Intel Corporation' }),
      ),
    ).toMatchObject([{ vendor: 'intel', totalGiB: null }]);
    expect(gpusFromWindowsControllers('not json')).toEqual([]);
  });

  it('asks powershell.exe through the injected runner, never systeminformation', async () => {
    const calls: string[] = [];
    const commands = {
      async run(file: string) {
        calls.push(file);
        return {
          exitCode: 0,
          stdout: answer,
          stderr: '',
          notFound: false,
          timedOut: false,
          failed: false,
          durationMs: 1,
        };
      },
    };
    const gpus = await readOtherGpus({ platform: 'win32', commands });
    expect(calls).toEqual(['powershell.exe']);
    expect(gpus.map((gpu) => gpu.vendor)).toEqual(['amd']);
  });
});

describe('memory', () => {
  it('reads total and available RAM through systeminformation', async () => {
    const memory = await readMemory({ root, platform: 'linux' });
    expect(memory.source).toBe('systeminformation');
    expect(memory.totalGiB).toBeGreaterThan(0);
    expect(memory.availableGiB).toBeLessThanOrEqual(memory.totalGiB);
  });

  it('caps RAM at a cgroup v2 limit, counting inactive page cache as reclaimable', async () => {
    put('sys/fs/cgroup/memory.max', `${2 * GiB}\n`);
    put('sys/fs/cgroup/memory.current', `${1.5 * GiB}\n`);
    put('sys/fs/cgroup/memory.stat', `anon 1\ninactive_file ${0.5 * GiB}\nactive_file 3\n`);
    expect(await readCgroupLimit(root)).toEqual({ limit: 2 * GiB, used: 1 * GiB });
    const memory = await readMemory({ root, platform: 'linux' });
    expect(memory).toMatchObject({ totalGiB: 2, availableGiB: 1, cgroupLimitGiB: 2 });
  });

  it('reads a cgroup v1 limit, and treats "max" or a huge v1 value as no limit', async () => {
    put('sys/fs/cgroup/memory/memory.limit_in_bytes', `${4 * GiB}\n`);
    put('sys/fs/cgroup/memory/memory.usage_in_bytes', `${1 * GiB}\n`);
    expect(await readCgroupLimit(root)).toEqual({ limit: 4 * GiB, used: GiB });
    put('sys/fs/cgroup/memory/memory.limit_in_bytes', '9223372036854771712\n');
    expect(await readCgroupLimit(root)).toBeUndefined();
    put('sys/fs/cgroup/memory.max', 'max\n');
    expect(await readCgroupLimit(root)).toBeUndefined();
  });
});

describe('readDiskFree', () => {
  it('measures the nearest existing ancestor of a cache directory that does not exist yet', async () => {
    const disk = await readDiskFree(join(root, 'not', 'yet', 'hub'));
    expect(disk.path).toBe(root);
    expect(disk.freeGiB).toBeGreaterThan(0);
  });
});
