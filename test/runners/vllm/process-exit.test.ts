import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../../helpers/built-cli.js';
import { TEST_PYTHON, readRecord, useFakeVllm, type FakeEnv } from './helpers.js';

/**
 * A CLI built on the runner must exit promptly and leave no Python behind, however it ends. These run the built
 * runner (dist/, built by the test global setup) in a separate Node process, as `atomr-infer chat` would.
 */

const SCRIPT = join(import.meta.dirname, 'fixtures', 'chat-once.mjs');

let env: FakeEnv | undefined;
afterEach(() => {
  env?.restore();
  env = undefined;
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the answer line on stdout to the process closing: the time it took to exit. */
  exitMs: number;
}

function runScript(
  mode: string,
  extraEnv: Record<string, string> = {},
  onStdout?: (text: string, kill: () => void) => void,
): Promise<Run> {
  requireBuiltCli();
  const started = performance.now();
  const child = spawn(process.execPath, [SCRIPT, mode], {
    env: { ...process.env, TEST_PYTHON, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let answered = 0;
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
    if (!answered && stdout.includes('{"text"')) answered = performance.now();
    onStdout?.(stdout, () => {
      answered = performance.now();
      child.kill('SIGINT');
    });
  });
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, exitMs: performance.now() - (answered || started) });
    });
  });
}

function pythonPids(): number[] {
  return readRecord(env?.recordFile ?? '')
    .filter((e) => e.event === 'engine_args')
    .map((e) => (e as unknown as { pid: number }).pid);
}

/** Dead, or a zombie: once Node has exited, its orphans are reaped by PID 1, which may take a while. */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

async function isGone(pid: number, withinMs = 2000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (isDead(pid)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a CLI using the vLLM runner', () => {
  it('exits promptly after dispose; stdout carries only its own output, even with DEBUG set', async () => {
    env = useFakeVllm();
    const run = await runScript('dispose', { DEBUG: '*', TEST_ENGINE_LOGS: 'stderr' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"text":"Echo: hello from a script"}\n');
    // Python's output went to stderr: vLLM's log line and even a stray print().
    expect(run.stderr).toContain('INFO fake vLLM engine for google/gemma-4-E2B-it ready');
    expect(run.stderr).toContain('fake vLLM: a stray print() to stdout');
    expect(run.stderr).not.toContain('[py -> js]');
    expect(run.exitMs).toBeLessThan(1500);
    const [pid] = pythonPids();
    expect(await isGone(pid!, 0)).toBe(true);
  });

  it('still exits, and stops Python, when the program forgets dispose()', async () => {
    env = useFakeVllm();
    const run = await runScript('no-dispose');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"text":"Echo: hello from a script"}\n');
    expect(run.exitMs).toBeLessThan(1500);
    const [pid] = pythonPids();
    expect(await isGone(pid!)).toBe(true);
  });

  it('dies on Ctrl-C mid-stream like any Node program, taking Python with it', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '20' });
    let interrupted = 0;
    const run = await runScript('sigint', {}, (stdout, kill) => {
      if (stdout.includes('STREAMING') && !interrupted) {
        interrupted = performance.now();
        kill();
      }
    });
    expect(interrupted).toBeGreaterThan(0);
    expect(run.signal).toBe('SIGINT');
    expect(run.stdout).toBe('STREAMING\n');
    expect(run.exitMs).toBeLessThan(1500);
    const [pid] = pythonPids();
    expect(await isGone(pid!)).toBe(true);
  });
});
