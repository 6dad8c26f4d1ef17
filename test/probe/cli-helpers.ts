import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli } from '../helpers/built-cli.js';
import { createFakeBin, realPython, type FakeBin } from '../helpers/fake-bin.js';
import { CLI, sample } from './samples.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node bin/atomr-infer.js …`) with exactly `env` (no inherited variables). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  requireBuiltCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A sandbox for one CLI run: an empty HOME and Hub cache, and a PATH holding only fake executables plus a
 * real `python3` (or, on a machine without Python, a fake one printing the no-vLLM sample).
 */
export interface Sandbox {
  bin: FakeBin;
  home: string;
  cacheDir: string;
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  cleanup(): void;
}

export function createSandbox(): Sandbox {
  const bin = createFakeBin();
  const home = mkdtempSync(join(tmpdir(), 'atomr-home-'));
  const python = realPython();
  if (python) bin.link('python3', python);
  else bin.add('python3', { stdout: sample('python-env-no-vllm.json') });
  const cacheDir = join(home, '.cache', 'huggingface', 'hub');
  return {
    bin,
    home,
    cacheDir,
    env(extra = {}) {
      // No real Hub: a loopback port nothing listens on refuses at once (tests that need one start the fake Hub).
      return { PATH: bin.dir, HOME: home, LANG: 'C.UTF-8', HF_ENDPOINT: 'http://127.0.0.1:9', ...extra };
    },
    cleanup() {
      bin.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function parseReport(stdout: string): Record<string, unknown> & {
  status: string;
  runtime: string | null;
  checks: { name: string; ok: boolean; value: string; reason?: string; hint?: string }[];
  config: Record<string, unknown> | null;
  notes?: string[];
  reason?: string;
  hint?: string;
} {
  const lines = stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one JSON line, got:\n${stdout}`);
  return JSON.parse(lines[0] ?? '') as ReturnType<typeof parseReport>;
}
