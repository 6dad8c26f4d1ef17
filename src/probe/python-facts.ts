import { fileURLToPath } from 'node:url';
import { ENV } from '../core/env-names.js';
import { redactSecrets } from '../core/secrets.js';
import type { CommandOptions, CommandRunner } from '../core/subprocess.js';
import { formatSeconds } from './units.js';

/**
 * The python and vllm checks share ONE spawn of probes/python-env.py, which prints the interpreter version and
 * where vLLM is installed (importlib.util.find_spec + importlib.metadata) without ever importing vLLM.
 */

/** probes/ sits two levels above both src/probe/ and dist/probe/. */
export const PYTHON_PROBE_SCRIPT = fileURLToPath(new URL('../../probes/python-env.py', import.meta.url));

export const PYTHON_TIMEOUT_MS = 8_000;

/** The smallest Python vLLM supports. */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

export interface PythonEnv {
  version: string;
  versionInfo: [number, number, number];
  executable: string;
  vllm: { found: boolean; origin: string | null; version: string | null; error: string | null };
}

export type PythonFacts =
  | { status: 'ok'; interpreter: string; env: PythonEnv }
  | { status: 'not-found'; interpreter: string }
  | { status: 'failed'; interpreter: string; message: string };

/** Parses the script's output: the last line that is a JSON object (warnings may precede it). */
export function parsePythonEnvOutput(stdout: string): PythonEnv | undefined {
  const line = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const record = json as Record<string, unknown>;
  const info = record.version_info;
  const vllm = record.vllm as Record<string, unknown> | undefined;
  if (
    !Array.isArray(info) ||
    info.length < 3 ||
    !info.slice(0, 3).every((n) => Number.isInteger(n)) ||
    typeof vllm !== 'object' ||
    vllm === null
  ) {
    return undefined;
  }
  const [major, minor, micro] = info as [number, number, number];
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return {
    version: typeof record.python === 'string' ? record.python : `${major}.${minor}.${micro}`,
    versionInfo: [major, minor, micro],
    executable: text(record.executable) ?? '',
    vllm: {
      found: vllm.found === true,
      origin: text(vllm.origin),
      version: text(vllm.version),
      error: text(vllm.error),
    },
  };
}

/** The interpreter the python/vllm checks use before settings are resolved (the same rule as Settings.python). */
export function pythonFromEnv(env: NodeJS.ProcessEnv): string {
  return env[ENV.python]?.trim() || 'python3';
}

export function meetsMinPython([major, minor]: readonly [number, number, number]): boolean {
  const [wantMajor, wantMinor] = MIN_PYTHON;
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

export async function inspectPython(
  commands: CommandRunner,
  interpreter: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = PYTHON_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<PythonFacts> {
  const options: CommandOptions = { env, timeoutMs, ...(signal ? { signal } : {}) };
  const result = await commands.run(interpreter, [PYTHON_PROBE_SCRIPT], options);
  if (result.notFound) return { status: 'not-found', interpreter };
  if (result.timedOut) {
    return {
      status: 'failed',
      interpreter,
      message: `${interpreter} did not answer within ${formatSeconds(timeoutMs)}`,
    };
  }
  const parsed = result.exitCode === 0 ? parsePythonEnvOutput(result.stdout) : undefined;
  if (!parsed) {
    const line = lastLine(result.stderr) ?? lastLine(result.stdout);
    const detail = line ? `: ${redactSecrets(line, env)}` : '';
    return {
      status: 'failed',
      interpreter,
      message:
        result.exitCode === 0
          ? `${interpreter} printed no probe report${detail}`
          : `${interpreter} failed (exit ${result.exitCode ?? 'signal'})${detail}`,
    };
  }
  return { status: 'ok', interpreter, env: parsed };
}

/** Python puts the useful part of a traceback last. */
function lastLine(text: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .pop();
  return line === undefined ? undefined : line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
