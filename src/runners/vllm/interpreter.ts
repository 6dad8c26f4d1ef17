import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ENV } from '../../core/env-names.js';
import { RuntimeFailure } from '../../core/errors.js';

/**
 * Resolves the interpreter the bridge runs (`python3`, `~/venv/bin/python`, …) to an absolute path, the way a shell
 * would (PATH lookup for bare names). pythonia spawns `PYTHON_BIN` verbatim, so a relative or bare name would be
 * resolved against whatever PATH/cwd the child happens to get. Symlinks are kept: a venv's `bin/python` is a
 * symlink, and following it would silently leave the venv (and its vLLM) behind.
 */
export function resolvePythonInterpreter(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = configured.trim();
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : resolve(name)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(isAbsolute(dir) ? dir : resolve(dir), name));
  for (const candidate of candidates) {
    if (isExecutableFile(candidate)) return candidate;
  }
  const where = name.includes('/') ? `at ${candidates[0]}` : 'on PATH';
  throw new RuntimeFailure(`Python interpreter "${name}" was not found ${where}`, {
    code: 'python-missing',
    hint: `set ${ENV.python} to the Python that has vLLM installed (e.g. ~/venv/bin/python)`,
  });
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
