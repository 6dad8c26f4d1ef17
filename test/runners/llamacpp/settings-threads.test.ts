import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { parseLlamaCppSettings } from '../../../src/runners/llamacpp/settings.js';
import {
  defaultThreadCount,
  physicalCoreCount,
  threadCountFor,
} from '../../../src/runners/llamacpp/threads.js';

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
