import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A virtual environment with the real Python `huggingface_hub`, to prove interoperability of the cache.
 * Installed once per machine into the temp dir (reused by later runs), from the local pip mirror when there is
 * one, else from the configured index. `undefined` with a reason when Python, venv or the package is missing.
 */
export async function pythonHubInterpreter(): Promise<{ python?: string; reason?: string }> {
  const venv = join(tmpdir(), 'atomr-infer-test-hf-venv');
  const python = join(venv, 'bin', 'python');
  const works = async (): Promise<boolean> =>
    existsSync(python) &&
    (await run(python, ['-c', 'import huggingface_hub'], { timeout: 30_000 }).then(
      () => true,
      () => false,
    ));
  if (await works()) return { python };
  const base = process.env.ATOMR_INFER_TEST_PYTHON ?? 'python3';
  try {
    await rm(venv, { recursive: true, force: true });
    await run(base, ['-m', 'venv', venv], { timeout: 60_000 });
  } catch (error) {
    return { reason: `no usable Python venv (${base} -m venv failed: ${firstLine(error)})` };
  }
  const mirror = '/opt/pypi/simple';
  const index = existsSync(mirror)
    ? ['--index-url', `file://${mirror}`]
    : ['--retries', '0', '--timeout', '10'];
  try {
    await run(python, ['-m', 'pip', 'install', '--no-input', '-q', ...index, 'huggingface_hub'], {
      timeout: 120_000,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
  } catch (error) {
    await rm(venv, { recursive: true, force: true });
    return { reason: `pip could not install huggingface_hub (${firstLine(error)})` };
  }
  return (await works()) ? { python } : { reason: 'huggingface_hub installed but does not import' };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** Runs a Python snippet that prints one JSON document, and parses it. */
export async function pythonJson(
  python: string,
  code: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  const { stdout } = await run(python, ['-c', code], { env, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}
