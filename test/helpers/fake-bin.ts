import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Fake executables (nvidia-smi, python3, …) in a temp directory that tests put first on PATH, so the code under
 * test spawns them exactly as it would spawn the real ones. Outputs are kept in side files and `cat`ed, so any
 * byte sequence (CSV, JSON, quotes) survives without shell quoting. POSIX only (`#!/bin/sh`).
 *
 *   const bin = createFakeBin();
 *   bin.add('nvidia-smi', { stdout: csv });
 *   bin.add('nvidia-smi', { stderr: 'Failed to initialize NVML: …', exitCode: 18 });
 *   bin.add('nvidia-smi', { sleepSeconds: 30 });           // a hang
 *   bin.link('python3', realPython());                     // a real interpreter under the expected name
 *   spawn(..., { env: bin.env() });                        // PATH = bin.dir + your PATH
 *   spawn(..., { env: bin.env({ isolate: true }) });       // PATH = bin.dir only: nothing else is found
 *   bin.cleanup();
 */

export interface FakeBehaviour {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /**
   * Sleep before printing. Without stdout/stderr it is a pure hang (the process *is* the sleep, so killing it
   * leaves nothing behind); with output, the shell sleeps and killing it may orphan the sleep until it ends.
   */
  sleepSeconds?: number;
}

export interface FakeBin {
  readonly dir: string;
  /** Writes (or replaces) an executable `name` behaving as described; returns its path. */
  add(name: string, behaviour: FakeBehaviour): string;
  /** Writes an executable `name` with a custom `/bin/sh` body (`"$@"` are its arguments). */
  addScript(name: string, body: string): string;
  /** An executable `name` that runs `target` with the same arguments (e.g. a real python under `python3`). */
  link(name: string, target: string): string;
  /** A copy of `base` (default process.env) with the fake directory first on PATH, or alone with `isolate`. */
  env(options?: {
    base?: NodeJS.ProcessEnv;
    isolate?: boolean;
    extra?: NodeJS.ProcessEnv;
  }): NodeJS.ProcessEnv;
  cleanup(): void;
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** Absolute path of a system tool, so fakes keep working under an isolated PATH that holds only the fakes. */
function systemTool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return name;
}

export function createFakeBin(prefix = 'atomr-fake-bin-'): FakeBin {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cat = quote(systemTool('cat'));
  const write = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  return {
    dir,
    add(name, behaviour) {
      const lines: string[] = [];
      const silent = behaviour.stdout === undefined && behaviour.stderr === undefined;
      if (behaviour.sleepSeconds && silent) {
        // A pure hang: `exec` so that killing the fake kills the sleep too (no orphan left running).
        return write(name, `exec ${quote(systemTool('sleep'))} ${behaviour.sleepSeconds}`);
      }
      if (behaviour.sleepSeconds) lines.push(`${quote(systemTool('sleep'))} ${behaviour.sleepSeconds}`);
      if (behaviour.stdout !== undefined) {
        writeFileSync(join(dir, `.${name}.stdout`), behaviour.stdout);
        lines.push(`${cat} ${quote(join(dir, `.${name}.stdout`))}`);
      }
      if (behaviour.stderr !== undefined) {
        writeFileSync(join(dir, `.${name}.stderr`), behaviour.stderr);
        lines.push(`${cat} ${quote(join(dir, `.${name}.stderr`))} >&2`);
      }
      lines.push(`exit ${behaviour.exitCode ?? 0}`);
      return write(name, lines.join('\n'));
    },
    addScript(name, body) {
      return write(name, body);
    },
    link(name, target) {
      return write(name, `exec ${quote(target)} "$@"`);
    },
    env(options = {}) {
      const base = { ...(options.base ?? process.env) };
      const path = options.isolate ? dir : [dir, base.PATH ?? ''].filter(Boolean).join(delimiter);
      return { ...base, ...options.extra, PATH: path };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let cachedPython: string | null | undefined;

/**
 * The absolute path of the real `python3` on PATH (resolving shims such as pyenv's), or `null` when there is
 * none. Link it into a FakeBin to keep a real interpreter available under an isolated PATH.
 */
export function realPython(): string | null {
  if (cachedPython !== undefined) return cachedPython;
  try {
    cachedPython =
      execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() ||
      null;
  } catch {
    cachedPython = null;
  }
  return cachedPython;
}
