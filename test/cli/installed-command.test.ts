import { dirname } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../helpers/built-cli.js';
import { BIN, isolatedEnv } from '../e2e/helpers/cli.js';
import { VERSION } from '../../src/cli/version.js';

/**
 * npm links `atomr-infer` to bin/atomr-infer.js and runs it through its shebang, not as `node bin/atomr-infer.js`
 * like the other CLI tests. A shebang this machine's `env` cannot run (e.g. flags without `env -S`, or a file that
 * lost its executable bit) would break every installed command while those tests still pass.
 */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;

beforeAll(() => {
  requireBuiltCli();
  ({ env, cleanup } = isolatedEnv());
  // The `node` the shebang finds is this one, as it is for a user whose PATH has the node that npm used.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
});
afterAll(() => cleanup());

const run = (args: string[]) =>
  execa(BIN, args, { env, extendEnv: false, reject: false, input: '', timeout: 30_000 });

describe('the installed command (bin/atomr-infer.js run through its shebang)', () => {
  it('prints its version and exits 0', async () => {
    const result = await run(['--version']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
    expect(result.stderr).toBe('');
  });

  it('keeps the exit-code policy: an unknown command is one line and exit 2', async () => {
    const result = await run(['frob']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`atomr-infer: unknown command 'frob' (Did you mean probe?)`);
  });
});
