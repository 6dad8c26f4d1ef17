import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testVenv } from '../helpers/python-venv.js';

const run = promisify(execFile);

/** A venv with the real Python `huggingface_hub`, to prove interoperability of the cache (see testVenv). */
export function pythonHubInterpreter(): Promise<{ python?: string; reason?: string }> {
  return testVenv({
    name: 'atomr-infer-test-hf-venv',
    packages: ['huggingface_hub'],
    check: 'import huggingface_hub',
    installTimeoutMs: 120_000,
  });
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
