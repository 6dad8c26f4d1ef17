import { redactSecrets } from '../core/secrets.js';
import type { CommandOptions, CommandRunner } from '../core/subprocess.js';
import { formatSeconds } from './units.js';
import {
  NVIDIA_SMI_ARGS,
  applyCudaVisibleDevices,
  parseNvidiaSmiCsv,
  type ParsedNvidiaGpu,
} from './nvidia-smi.js';

/** What `nvidia-smi` told us, before any judgement about the model. */
export type GpuFacts =
  /** No `nvidia-smi` on PATH: no NVIDIA driver, which is a normal machine, not an error. */
  | { status: 'absent'; detail?: string }
  | { status: 'failed'; message: string; hint: string }
  | { status: 'ok'; all: ParsedNvidiaGpu[]; visible: ParsedNvidiaGpu[]; note?: string };

export const NVIDIA_SMI_TIMEOUT_MS = 5_000;

export async function queryNvidiaGpus(
  commands: CommandRunner,
  env: NodeJS.ProcessEnv,
  timeoutMs = NVIDIA_SMI_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<GpuFacts> {
  const options: CommandOptions = { env, timeoutMs, ...(signal ? { signal } : {}) };
  const result = await commands.run('nvidia-smi', NVIDIA_SMI_ARGS, options);
  if (result.notFound) return { status: 'absent' };
  if (result.timedOut) {
    return {
      status: 'failed',
      message: `nvidia-smi did not answer within ${formatSeconds(timeoutMs)}`,
      hint: 'the NVIDIA driver may be stuck: check `dmesg` for Xid errors, or enable persistence mode (`sudo nvidia-smi -pm 1`)',
    };
  }
  if (result.exitCode !== 0) {
    const line = firstLine(result.stderr) ?? firstLine(result.stdout);
    // A driver without a GPU (a VM without passthrough, a removed card) is a machine without a GPU.
    if (line && /^no devices were found/i.test(line))
      return { status: 'absent', detail: `nvidia-smi: ${line}` };
    const quoted = line ? `: ${redactSecrets(line, env)}` : '';
    return {
      status: 'failed',
      message: `nvidia-smi failed (exit ${result.exitCode ?? 'signal'})${quoted}`,
      hint: hintForFailure(line ?? ''),
    };
  }
  const parsed = parseNvidiaSmiCsv(result.stdout);
  if (!parsed.ok) {
    return {
      status: 'failed',
      message: redactSecrets(parsed.error, env),
      hint: 'run `nvidia-smi` yourself to see what the driver reports',
    };
  }
  const visibility = applyCudaVisibleDevices(parsed.gpus, env.CUDA_VISIBLE_DEVICES);
  return {
    status: 'ok',
    all: parsed.gpus,
    visible: visibility.visible,
    ...(visibility.note ? { note: visibility.note } : {}),
  };
}

function firstLine(text: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line === undefined ? undefined : line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function hintForFailure(line: string): string {
  if (/version mismatch/i.test(line)) {
    return 'the NVIDIA kernel module and driver library differ (usually after a driver update): reboot, or reload the nvidia kernel modules';
  }
  if (/couldn't communicate with the NVIDIA driver/i.test(line)) {
    return 'the NVIDIA driver is not loaded: check `lsmod | grep nvidia` and `dmesg`, or reinstall the driver';
  }
  return 'run `nvidia-smi` yourself to see the full error';
}
