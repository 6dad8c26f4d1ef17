import { describe, expect, it } from 'vitest';
import {
  applyCudaVisibleDevices,
  bestGpu,
  parseNvidiaSmiCsv,
  type ParsedNvidiaGpu,
} from '../../src/probe/nvidia-smi.js';
import { sample } from './samples.js';

function parsed(name: string): ParsedNvidiaGpu[] {
  const result = parseNvidiaSmiCsv(sample(name));
  if (!result.ok) throw new Error(result.error);
  return result.gpus;
}

describe('parseNvidiaSmiCsv', () => {
  it('reads one GPU with memory in GiB (MiB / 1024) and the driver version', () => {
    const [gpu, ...rest] = parsed('nvidia-smi-1gpu.csv');
    expect(rest).toEqual([]);
    expect(gpu).toMatchObject({
      index: 0,
      uuid: 'GPU-5f0b2c1e-8d3a-4b7e-9c21-3e6f1a2b4c5d',
      name: 'NVIDIA L4',
      totalGiB: 22.49,
      usedGiB: 0.46,
      freeGiB: 21.63,
      driverVersion: '550.54.15',
      vendor: 'nvidia',
      unavailable: [],
    });
  });

  it('reads several GPUs in index order', () => {
    const gpus = parsed('nvidia-smi-2gpus.csv');
    expect(gpus.map((gpu) => [gpu.index, gpu.freeGiB])).toEqual([
      [0, 3.68],
      [1, 23.37],
    ]);
  });

  it('turns [N/A] memory (MIG mode) into null and records which fields were missing', () => {
    const [gpu] = parsed('nvidia-smi-mig-na.csv');
    expect(gpu).toMatchObject({ totalGiB: 40, usedGiB: null, freeGiB: null });
    expect(gpu?.unavailable).toEqual(['memory.used=[N/A]', 'memory.free=[N/A]']);
  });

  it('turns [Insufficient Permissions] into null without failing', () => {
    const [gpu] = parsed('nvidia-smi-insufficient-permissions.csv');
    expect(gpu).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', totalGiB: null, freeGiB: null });
    expect(gpu?.unavailable).toContain('memory.free=[Insufficient Permissions]');
  });

  it('accepts CRLF line endings and blank lines', () => {
    const text = `\r\n${sample('nvidia-smi-2gpus.csv').replace(/\n/g, '\r\n')}\r\n`;
    const result = parseNvidiaSmiCsv(text);
    expect(result.ok && result.gpus.length).toBe(2);
  });

  it.each([
    ['', 'nvidia-smi printed nothing'],
    ['0, GPU-x, NVIDIA L4, 23034\n', 'expected 7 comma-separated fields'],
    ['zero, GPU-x, NVIDIA L4, 1, 1, 1, 550\n', 'index is not a number'],
    ['0, GPU-x, NVIDIA L4, 23034 MiB, 1, 1, 550\n', 'memory is not a number of MiB'],
    [sample('nvidia-smi-nvml-mismatch.stderr'), 'expected 7 comma-separated fields'],
  ])('rejects unparsable output %j with a message naming the problem', (text, message) => {
    const result = parseNvidiaSmiCsv(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});

describe('applyCudaVisibleDevices', () => {
  const gpus = parsed('nvidia-smi-2gpus.csv');
  const [first, second] = gpus;

  it('shows every GPU when unset', () => {
    expect(applyCudaVisibleDevices(gpus, undefined)).toEqual({ visible: gpus });
  });

  it('hides every GPU when set but empty or blank', () => {
    for (const value of ['', '  ']) {
      const result = applyCudaVisibleDevices(gpus, value);
      expect(result.visible).toEqual([]);
      expect(result.note).toContain('set but empty');
    }
  });

  it('selects by index, in the order given', () => {
    expect(applyCudaVisibleDevices(gpus, '1').visible).toEqual([second]);
    expect(applyCudaVisibleDevices(gpus, '1,0').visible).toEqual([second, first]);
  });

  it('selects by full UUID, by unique prefix, and without the GPU- prefix', () => {
    expect(applyCudaVisibleDevices(gpus, 'GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff').visible).toEqual([
      second,
    ]);
    expect(applyCudaVisibleDevices(gpus, 'GPU-0a1b').visible).toEqual([first]);
    expect(applyCudaVisibleDevices(gpus, '9f8e7d6c').visible).toEqual([second]);
  });

  it('stops at the first entry that matches no GPU, as CUDA does', () => {
    const result = applyCudaVisibleDevices(gpus, '1,7,0');
    expect(result.visible).toEqual([second]);
    expect(result.note).toContain('"7" matches no GPU');
    const none = applyCudaVisibleDevices(gpus, '-1');
    expect(none.visible).toEqual([]);
    expect(none.note).toContain('sees no GPU');
  });

  it('says that a MIG instance cannot be measured', () => {
    const result = applyCudaVisibleDevices(gpus, 'MIG-5c3f8c2a-1111-2222-3333-444455556666');
    expect(result.visible).toEqual([]);
    expect(result.note).toContain('MIG instance');
  });
});

describe('bestGpu', () => {
  it('picks the GPU with the most free memory, not the first one', () => {
    expect(bestGpu(parsed('nvidia-smi-2gpus.csv'))?.index).toBe(1);
  });

  it('never picks a GPU whose free memory is unknown', () => {
    expect(bestGpu(parsed('nvidia-smi-mig-na.csv'))).toBeUndefined();
  });
});
