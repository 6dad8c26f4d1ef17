import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AtomrError } from '../../src/core/errors.js';
import { StateFileError } from '../../src/core/state-files.js';
import { runProvisionCommand } from '../../src/cli/provisioning/provision-command.js';
import type { ProvisionDeps } from '../../src/cli/provisioning/provision.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/**
 * `provision` when the state directory goes bad between the early check and the registration (a pull that
 * filled the disk, a directory swapped away): the load check passed, so the error must say the model is fine
 * and only registering failed (exit 2), never "could not be loaded" (exit 5). The real probe, pull (of a local
 * GGUF, nothing downloaded) and registry run; the load-check seam stands in for the llama.cpp load, and in the
 * failing case turns the state directory into a regular file (ENOTDIR, which stops root too).
 */

let dir: string;
let model: string;

beforeAll(async () => {
  model = await writeTinyGguf({ arch: 'gemma3', seed: 32 });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomr-provision-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(
  loadCheck: ProvisionDeps['loadCheck'],
  probe?: ProvisionDeps['probe'],
): Promise<{ error: unknown; exitCode: number | undefined }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    HF_HUB_CACHE: join(dir, 'hf'),
    HF_HUB_OFFLINE: '1',
    ATOMR_INFER_HOME: join(dir, 'state'),
    ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it',
    ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp',
    ATOMR_INFER_GEMMA_GGUF: model,
  };
  let exitCode: number | undefined;
  const stderr = new PassThrough();
  stderr.resume();
  return runProvisionCommand(
    { yes: true },
    {
      setExitCode: (code) => (exitCode = code),
      env,
      stdout: new PassThrough(),
      stderr,
      stdin: new PassThrough(),
      deps: probe ? { loadCheck, probe } : { loadCheck },
    },
  ).then(
    () => ({ error: undefined, exitCode }),
    (error: unknown) => ({ error, exitCode }),
  );
}

describe('provision: the registry write fails after the load check passed', () => {
  it('reports the state file (exit 2) and says the model loads', async () => {
    const state = join(dir, 'state');
    const { error } = await run(async () => {
      rmSync(state, { recursive: true, force: true });
      writeFileSync(state, 'not a directory');
    });
    expect(error).toBeInstanceOf(StateFileError);
    const failure = error as StateFileError;
    expect(failure.exitCode).toBe(2);
    expect(failure.message).toBe(
      `gemma-local is downloaded and loads, but it could not be registered: cannot write the deployment state file ${join(state, 'deployments.json')}: a part of its path is a file, not a directory (ENOTDIR)`,
    );
    expect(failure.message).not.toContain('could not be loaded');
    expect(failure.hint).toContain('ATOMR_INFER_HOME');
  });

  it('still reports a real load failure as "could not be loaded" (exit 5)', async () => {
    const { error } = await run(async () => {
      throw new Error('the engine fell over');
    });
    expect(error).toBeInstanceOf(AtomrError);
    expect((error as AtomrError).exitCode).toBe(5);
    expect((error as AtomrError).message).toBe(
      'gemma-local could not be loaded: Error: the engine fell over',
    );
  });

  it('an unnamed failure before the load check is not "could not be loaded" (exit 1, naming the step)', async () => {
    let loaded = false;
    const { error } = await run(
      async () => {
        loaded = true;
      },
      async () => {
        throw new TypeError('the probe tripped');
      },
    );
    expect(loaded).toBe(false);
    expect(error).toBeInstanceOf(AtomrError);
    expect((error as AtomrError).exitCode).toBe(1);
    expect((error as AtomrError).message).toBe(
      'provision failed while checking this machine: TypeError: the probe tripped',
    );
    expect((error as AtomrError).hint).toContain('report');
  });

  it('registers when nothing goes wrong (the early check left nothing behind)', async () => {
    const { error, exitCode } = await run(async () => undefined);
    expect(error).toBeUndefined();
    expect(exitCode).toBe(0);
    expect(readdirSync(join(dir, 'state'))).toEqual(['deployments.json']);
  });
});
