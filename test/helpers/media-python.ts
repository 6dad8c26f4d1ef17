import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the vLLM driver decodes media with: Pillow and numpy (vLLM's own dependencies), soundfile (vllm[audio]). */
const PACKAGES = ['pillow', 'numpy', 'soundfile'];

/**
 * A virtual environment with the packages vLLM's media input uses, for the tests that run the fake vLLM on images
 * and audio. Made once per machine in the temp dir (reused by later runs) from the local pip mirror when there is
 * one, else the configured index. `reason` says why not when Python, venv or a package is missing: those tests
 * are skipped with it, never passed.
 */
export async function mediaPythonInterpreter(): Promise<{ python?: string; reason?: string }> {
  const venv = join(tmpdir(), 'atomr-infer-test-media-venv');
  const python = join(venv, 'bin', 'python');
  const works = async (): Promise<boolean> =>
    existsSync(python) &&
    (await run(python, ['-c', 'import PIL, numpy, soundfile'], { timeout: 30_000 }).then(
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
    await run(python, ['-m', 'pip', 'install', '--no-input', '-q', ...index, ...PACKAGES], {
      timeout: 180_000,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
  } catch (error) {
    await rm(venv, { recursive: true, force: true });
    return { reason: `pip could not install ${PACKAGES.join(', ')} (${firstLine(error)})` };
  }
  return (await works()) ? { python } : { reason: `${PACKAGES.join(', ')} installed but do not import` };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
