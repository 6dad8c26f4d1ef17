import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { parseLlamaCppSettings } from '../../../src/runners/llamacpp/settings.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import {
  cgroupCpuLimit,
  defaultThreadCount,
  physicalCoreCount,
  threadCountFor,
  usableCpuCount,
} from '../../../src/core/cpu-threads.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

describe('llama-cpp settings', () => {
  it('accepts every documented key', () => {
    const settings = {
      contextSize: 4096,
      threads: 2,
      gpuLayers: 'auto',
      gpu: false,
      instructionTuned: true,
      batchSize: 256,
      sequences: 4,
    };
    expect(parseLlamaCppSettings(settings)).toEqual(settings);
    expect(parseLlamaCppSettings({ gpuLayers: 12, gpu: 'cuda' })).toEqual({ gpuLayers: 12, gpu: 'cuda' });
  });

  it('rejects an unknown key, naming it and the accepted keys', () => {
    expect(() => parseLlamaCppSettings({ thread: 2 })).toThrow(ConfigError);
    expect(() => parseLlamaCppSettings({ thread: 2 })).toThrow(
      /unknown key "thread"; accepted keys are contextSize, threads/,
    );
  });

  it('rejects a bad value, naming the key, the value and what is accepted', () => {
    expect(() => parseLlamaCppSettings({ gpuLayers: 'lots' })).toThrow(
      'llama-cpp settings: gpuLayers="lots" is not valid; expected "auto", "max" or a non-negative integer',
    );
    expect(() => parseLlamaCppSettings({ threads: 0 })).toThrow(
      /threads=0 is not valid; expected an integer from 1 to 256/,
    );
    expect(() => parseLlamaCppSettings({ gpu: 'rocm' })).toThrow(/gpu="rocm"/);
  });
});

describe('default thread count', () => {
  it('leaves one physical core free, never below 1 or above 16', () => {
    expect(threadCountFor({ available: 1, physical: 1 })).toBe(1);
    expect(threadCountFor({ available: 2, physical: 2 })).toBe(1);
    expect(threadCountFor({ available: 8, physical: 4 })).toBe(3);
    expect(threadCountFor({ available: 16, physical: 16 })).toBe(15);
    expect(threadCountFor({ available: 128, physical: 64 })).toBe(16);
    // Unknown topology: logical CPUs count as cores.
    expect(threadCountFor({ available: 6, physical: undefined })).toBe(5);
    // A cgroup/affinity limit below the physical cores wins.
    expect(threadCountFor({ available: 2, physical: 32 })).toBe(1);
  });

  it('never exceeds the CPUs this process may use', () => {
    const threads = defaultThreadCount();
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(threads).toBeLessThanOrEqual(Math.max(1, availableParallelism() - 1));
  });

  const sys = mkdtempSync(join(tmpdir(), 'atomr-sys-'));
  afterAll(() => rmSync(sys, { recursive: true, force: true }));

  it.runIf(process.platform === 'linux')('counts SMT siblings once when reading the sysfs topology', () => {
    // 4 logical CPUs on 2 cores of one package; cpu4 is offline (no topology).
    const cpus: Array<[string, string | undefined]> = [
      ['cpu0', '0'],
      ['cpu1', '1'],
      ['cpu2', '0'],
      ['cpu3', '1'],
      ['cpu4', undefined],
    ];
    for (const [cpu, core] of cpus) {
      mkdirSync(join(sys, cpu), { recursive: true });
      if (core === undefined) continue;
      mkdirSync(join(sys, cpu, 'topology'));
      writeFileSync(join(sys, cpu, 'topology', 'core_id'), `${core}\n`);
      writeFileSync(join(sys, cpu, 'topology', 'physical_package_id'), '0\n');
    }
    mkdirSync(join(sys, 'cpufreq'));
    expect(physicalCoreCount(sys)).toBe(2);
    expect(physicalCoreCount(join(sys, 'missing'))).toBeUndefined();
  });
});

describe('usable CPUs (issue 9 item 5: --threads 256 on 2 cores never finished)', () => {
  const root = mkdtempSync(join(tmpdir(), 'atomr-cgroup-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function cgroup(files: Record<string, string>): string {
    const dir = mkdtempSync(join(root, 'cg-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  }

  it('reads a cgroup v2 CPU quota (rounded up), and none when unlimited or absent', () => {
    expect(cgroupCpuLimit(cgroup({ 'cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(cgroup({ 'cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(cgroup({ 'cpu.max': '50000 100000\n' }))).toBe(1);
    expect(cgroupCpuLimit(cgroup({ 'cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuLimit(cgroup({}))).toBeUndefined();
  });

  it('reads a cgroup v1 CFS quota too', () => {
    const v1 = cgroup({ 'cpu/cpu.cfs_quota_us': '300000\n', 'cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuLimit(v1)).toBe(3);
    const unlimited = cgroup({ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuLimit(unlimited)).toBeUndefined();
  });

  it('never counts more CPUs than the process may run on', () => {
    expect(usableCpuCount()).toBeGreaterThanOrEqual(1);
    expect(usableCpuCount()).toBeLessThanOrEqual(availableParallelism());
  });

  it('the runner clamps a stored threads setting above the usable CPUs (a deployment written elsewhere)', async () => {
    const path = await writeTinyGguf({ arch: 'gemma3', seed: 5 });
    const runner = await createLlamaCppRunner({
      runtime: 'llama-cpp',
      model: 'tiny',
      weights: { kind: 'local-path', path },
      settings: { threads: 256, gpu: false, contextSize: 256 },
    });
    try {
      const usable = usableCpuCount();
      expect(runner.transportKind).toEqual({ kind: 'local-cpu', threads: usable });
      expect(runner.describe().device).toBe(`CPU · ${usable} thread${usable === 1 ? '' : 's'}`);
    } finally {
      await runner.dispose();
    }
  });
});
