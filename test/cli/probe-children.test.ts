import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, parseReport, runCli, type Sandbox } from '../probe/cli-helpers.js';

/**
 * Nothing the probe starts outlives it. nvidia-smi and the Python probe are programs we do not control: a wrapper
 * script (a pyenv shim, a driver helper) runs its real work as a child, and killing the wrapper alone on a timeout
 * left that child running after `probe` had exited. Each fake below records its own pid and its child's.
 */

let box: Sandbox;
let pidFile: string;
beforeEach(() => {
  box = createSandbox();
  pidFile = join(box.home, 'pids');
});
afterEach(() => {
  for (const pid of recordedPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  box.cleanup();
});

const SLEEP = ['/bin/sleep', '/usr/bin/sleep'].find((path) => existsSync(path)) ?? 'sleep';

function recordedPids(): number[] {
  if (!existsSync(pidFile)) return [];
  return readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // An orphan that init has not reaped yet is a zombie: dead all the same.
    return !(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false);
  } catch {
    return false;
  }
}

/** The pids still alive once the signals sent before the CLI exited have been delivered. */
async function survivors(): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    if (!recordedPids().some(alive)) return [];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return recordedPids().filter(alive);
}

/** A wrapper that records its pid, starts `sleep` as its child and `tail` (shell). */
function wrapper(tail: string, sleepRedirect = ''): string {
  return `echo $$ >> '${pidFile}'\n'${SLEEP}' 30 ${sleepRedirect} &\necho $! >> '${pidFile}'\n${tail}`;
}

describe('atomr-infer probe leaves no process behind', () => {
  it('nvidia-smi and the Python probe hang past their timeouts: both and their children are gone', async () => {
    box.bin.addScript('nvidia-smi', wrapper('wait'));
    const python = box.bin.addScript('python-hang', wrapper('wait'));
    const result = await runCli(['probe', '--json'], box.env({ ATOMR_INFER_PYTHON: python }));
    expect(result.code).not.toBeNull();
    const report = parseReport(result.stdout);
    expect(report.checks.find((c) => c.name === 'gpu')?.ok).toBe(false);
    expect(recordedPids()).toHaveLength(4);
    expect(await survivors()).toEqual([]);
  }, 40_000);

  it('nvidia-smi exits at once but leaves a child in the background: that child is gone too', async () => {
    box.bin.addScript('nvidia-smi', wrapper('exit 9', '>/dev/null 2>&1 </dev/null'));
    const result = await runCli(['probe', '--json'], box.env());
    expect(result.code).not.toBeNull();
    expect(recordedPids()).toHaveLength(2);
    expect(await survivors()).toEqual([]);
  });
});
