import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A virtual environment with real Python packages, for tests that prove interoperability with them (the Hub
 * client reading our cache, vLLM's media libraries decoding what we send). Made once per machine in the temp dir
 * (`name`; reused by later runs), from the local pip mirror when there is one, else the configured index.
 * `reason` says why not when Python, venv or a package is missing: those tests are skipped with it, never passed.
 */
export async function testVenv(options: {
  name: string;
  packages: readonly string[];
  /** The Python statement that proves the packages work, e.g. `import PIL, numpy`. */
  check: string;
  installTimeoutMs?: number;
}): Promise<{ python?: string; reason?: string }> {
  const { packages } = options;
  const venv = join(tmpdir(), options.name);
  const python = join(venv, 'bin', 'python');
  const works = async (): Promise<boolean> =>
    existsSync(python) &&
    (await run(python, ['-c', options.check], { timeout: 30_000 }).then(
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
    await run(python, ['-m', 'pip', 'install', '--no-input', '-q', ...index, ...packages], {
      timeout: options.installTimeoutMs ?? 180_000,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
  } catch (error) {
    await rm(venv, { recursive: true, force: true });
    return { reason: `pip could not install ${packages.join(', ')} (${firstLine(error)})` };
  }
  return (await works()) ? { python } : { reason: `${packages.join(', ')} installed but do not import` };
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
