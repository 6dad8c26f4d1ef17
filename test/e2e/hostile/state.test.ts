import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentRegistry } from '../../../src/core/deployments.js';
import type { RunnerSpec } from '../../../src/core/model-runner.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';
import { startFakeServer, type FakeServer } from '../../runners/remote/fake-openai-server.js';
import { BIN, isolatedEnv, runCli, type CliRun } from '../helpers/cli.js';

/**
 * Issue 9, items 9, 10 and 14 (last part), end to end on the built CLI: a state directory (ATOMR_INFER_HOME)
 * that is read-only, full or cannot be created; deployment names that are Object.prototype keys; a corrupt
 * deployments.json met by `provision`. Every case must end in one line, a hint and exit 2 (the state directory
 * is configuration), never a stack trace, a hang, a lost bench table or a leftover `*.tmp`.
 *
 * Tests run as root, which chmod does not stop. Each unusable directory here is one the kernel refuses to root:
 * - a path whose parent is a regular file (ENOTDIR),
 * - a directory under /proc (mkdir says ENOENT; Node's recursive mkdir spun forever on it),
 * - a read-only bind mount in a private mount namespace (`unshare --mount`, EROFS; chmod 0555 when not root),
 * - /dev/full as the bench results file (a real ENOSPC),
 * - a file-size limit of 0 (`ulimit -f 0` with SIGXFSZ ignored: EFBIG once the temp file is created).
 */

let env: NodeJS.ProcessEnv;
let cleanup: (() => void) | undefined;
let home: string;
let model: string;
const state = (): string => env.ATOMR_INFER_HOME!;
const stateFile = (): string => join(state(), 'deployments.json');

beforeAll(async () => {
  model = await writeTinyGguf({ arch: 'gemma3', seed: 31 });
});

beforeEach(() => {
  cleanup?.();
  ({ env, cleanup } = isolatedEnv());
  home = env.HOME!;
});
afterAll(() => cleanup?.());

const spec = (overrides: Partial<RunnerSpec> = {}): RunnerSpec => ({
  runtime: 'llama-cpp',
  model: 'google/gemma-4-E2B-it',
  weights: { kind: 'local-path', path: model },
  settings: { threads: 1 },
  ...overrides,
});

async function seed(...names: string[]): Promise<string> {
  const registry = new DeploymentRegistry(stateFile());
  for (const name of names) await registry.apply(name, spec());
  return readFileSync(stateFile(), 'utf8');
}

/** provision from the tiny GGUF on disk: no network, no download, a real probe and load check. */
const PROVISION_ENV = (): Record<string, string> => ({
  ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it',
  ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp',
  ATOMR_INFER_GEMMA_GGUF: model,
});
const BENCH = ['bench', '--threads', '1', '--concurrency', '1', '--requests', '1', '--max-tokens', '4'];

/** One `atomr-infer: …` line and one `hint: …` line, no stack frame. */
function expectOneLine(run: CliRun, message: string | RegExp): void {
  const lines = run.stderr.split('\n').filter((line) => line.startsWith('atomr-infer: '));
  expect(lines).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(`atomr-infer: ${message}`);
  else expect(lines[0]).toMatch(message);
  expect(run.stderr).toMatch(/^hint: \S/m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).not.toContain('unexpected error');
}

function expectTable(run: CliRun): void {
  expect(run.stdout).toMatch(/concurrency\s+requests\s+errors/);
  expect(run.stdout).toMatch(/^1\s+1\s+0\s/m);
}

describe('a state directory whose parent is a regular file (ENOTDIR)', () => {
  beforeEach(() => {
    writeFileSync(join(home, 'plain-file'), 'x');
    env.ATOMR_INFER_HOME = join(home, 'plain-file', 'state');
  });
  const unreadable = () =>
    `cannot read the deployment state file ${stateFile()}: a part of its path is a file, not a directory (ENOTDIR)`;

  it('deployments and deployments rm: exit 2, one line naming the file', async () => {
    for (const args of [['deployments'], ['deployments', 'rm', 'gemma-local']]) {
      const run = await runCli(args, { env });
      expect(run.exitCode).toBe(2);
      expectOneLine(run, unreadable());
      expect(run.stderr).toContain('hint: set ATOMR_INFER_HOME to a directory you can read and write');
    }
  });

  it('provision fails before probing, pulling or loading anything', async () => {
    const run = await runCli(['provision'], { env: { ...env, ...PROVISION_ENV() } });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, unreadable());
    expect(run.stderr).not.toContain('provision: checking this machine');
  });

  it('bench prints its table, then reports the results file it could not write (exit 2)', async () => {
    const run = await runCli([...BENCH, '--model', model], { env });
    expectTable(run);
    expect(run.exitCode).toBe(2);
    expectOneLine(
      run,
      `the run was printed but not saved: cannot write the bench results file ${join(state(), 'bench-results.jsonl')}: a part of its path is a file, not a directory (ENOTDIR)`,
    );
  });
});

describe.skipIf(!existsSync('/proc/self'))('a state directory under /proc (cannot be created)', () => {
  beforeEach(() => {
    env.ATOMR_INFER_HOME = '/proc/atomr-infer-hostile/state';
  });
  const cannotCreate = (file: string, what: string) =>
    `cannot write ${what} ${file}: a directory on its path does not exist and cannot be created (ENOENT)`;

  it('provision says so at once instead of spinning in mkdir (it used to hang)', async () => {
    const run = await runCli(['provision'], { env: { ...env, ...PROVISION_ENV() }, timeoutMs: 20_000 });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, cannotCreate(stateFile(), 'the deployment state file'));
    expect(run.stderr).not.toContain('provision: checking this machine');
  });

  it('bench prints the table, then one line about the results file', async () => {
    const run = await runCli([...BENCH, '--model', model], { env, timeoutMs: 20_000 });
    expectTable(run);
    expect(run.exitCode).toBe(2);
    expectOneLine(
      run,
      `the run was printed but not saved: ${cannotCreate(join(state(), 'bench-results.jsonl'), 'the bench results file')}`,
    );
  });

  it('bench --json: the run on stdout, then the error object', async () => {
    const run = await runCli([...BENCH, '--model', model, '--json'], { env, timeoutMs: 20_000 });
    expect(run.exitCode).toBe(2);
    const [result, error] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(result).toMatchObject({ runtime: 'llama-cpp', levels: [{ concurrency: 1 }] });
    expect(error).toMatchObject({ error: { code: 'state-unwritable', exitCode: 2 } });
  });
});

/**
 * Runs the CLI with the state directory read-only: as root, inside a private mount namespace where the
 * directory is bind-mounted read-only onto itself (EROFS; the host's mounts are untouched); otherwise with
 * chmod 0555 (EACCES). `undefined` when neither can be arranged here (root without CAP_SYS_ADMIN).
 */
function readOnlyRunner(): ((args: string[], env: NodeJS.ProcessEnv) => Promise<CliRun>) | undefined {
  if (process.getuid?.() !== 0) {
    return async (args, runEnv) => {
      spawnSync('chmod', ['0555', runEnv.ATOMR_INFER_HOME!]);
      try {
        return await runCli(args, { env: runEnv });
      } finally {
        spawnSync('chmod', ['0755', runEnv.ATOMR_INFER_HOME!]);
      }
    };
  }
  const script = 'mount --bind -o ro "$0" "$0" && exec "$@"';
  const { env: trialEnv, cleanup: trialCleanup } = isolatedEnv();
  const trialDir = trialEnv.HOME!;
  const trial = spawnSync(
    'unshare',
    ['--mount', 'sh', '-c', script, trialDir, 'touch', join(trialDir, 'x')],
    {
      encoding: 'utf8',
    },
  );
  trialCleanup();
  if (trial.error || !/Read-only file system/.test(trial.stderr)) return undefined;
  return (args, runEnv) =>
    execa(
      'unshare',
      ['--mount', 'sh', '-c', script, runEnv.ATOMR_INFER_HOME!, process.execPath, BIN, ...args],
      {
        env: runEnv,
        extendEnv: false,
        reject: false,
        timeout: 60_000,
        input: '',
        stripFinalNewline: false,
      },
    ) as unknown as Promise<CliRun>;
}
const runReadOnly = readOnlyRunner();

describe.skipIf(runReadOnly === undefined)(
  'a read-only state directory (EROFS, or EACCES when not root)',
  () => {
    const refused = /: (the file system is read-only \(EROFS\)|permission denied \(EACCES\))$/;

    it('deployments still lists; rm fails in one line and leaves the file, with no *.tmp or lock', async () => {
      const before = await seed('gemma-local', 'big');
      const listed = await runReadOnly!(['deployments'], env);
      expect(listed.exitCode).toBe(0);
      expect(listed.stdout).toContain('gemma-local');

      const run = await runReadOnly!(['deployments', 'rm', 'big'], env);
      expect(run.exitCode).toBe(2);
      expectOneLine(
        run,
        new RegExp(`^atomr-infer: cannot write the deployment state file ${stateFile()}${refused.source}`),
      );
      expect(readFileSync(stateFile(), 'utf8')).toBe(before);
      expect(readdirSync(state())).toEqual(['deployments.json']);
    });

    it('provision fails before any slow work', async () => {
      await seed('gemma-local');
      const run = await runReadOnly!(['provision'], {
        ...env,
        ...PROVISION_ENV(),
        ATOMR_INFER_GEMMA_DEPLOYMENT: 'other',
      });
      expect(run.exitCode).toBe(2);
      expectOneLine(
        run,
        new RegExp(`^atomr-infer: cannot write the deployment state file ${stateFile()}${refused.source}`),
      );
      expect(run.stderr).not.toContain('provision: checking this machine');
      expect(readdirSync(state())).toEqual(['deployments.json']);
    });

    it('bench prints the table, then fails on the results file', async () => {
      mkdirSync(state(), { recursive: true });
      const run = await runReadOnly!([...BENCH, '--model', model], env);
      expectTable(run);
      expect(run.exitCode).toBe(2);
      expectOneLine(
        run,
        /^atomr-infer: the run was printed but not saved: cannot write the bench results file /,
      );
      expect(readdirSync(state())).toEqual([]);
    });
  },
);

describe('a full or size-limited state directory', () => {
  it.skipIf(!existsSync('/dev/full'))(
    'bench: the table, then "no space is left" (ENOSPC from /dev/full)',
    async () => {
      mkdirSync(state(), { recursive: true });
      symlinkSync('/dev/full', join(state(), 'bench-results.jsonl'));
      const run = await runCli([...BENCH, '--model', model], { env });
      expectTable(run);
      expect(run.exitCode).toBe(2);
      expectOneLine(
        run,
        `the run was printed but not saved: cannot write the bench results file ${join(state(), 'bench-results.jsonl')}: no space is left on the device (ENOSPC)`,
      );
      expect(run.stderr).toContain('hint: free some space there, or set ATOMR_INFER_HOME');
    },
  );

  it.skipIf(spawnSync('bash', ['--version']).status !== 0)(
    'deployments rm under `ulimit -f 0`: one line, the registry intact, no empty *.tmp left behind',
    async () => {
      const before = await seed('gemma-local', 'big');
      // SIGXFSZ ignored (the disposition survives exec): writes fail with EFBIG instead of killing the process.
      const run = (await execa(
        'bash',
        [
          '-c',
          'trap "" XFSZ; ulimit -f 0; exec "$@"',
          'bash',
          process.execPath,
          BIN,
          'deployments',
          'rm',
          'big',
        ],
        { env, extendEnv: false, reject: false, input: '', timeout: 30_000 },
      )) as unknown as CliRun;
      expect(run.exitCode).toBe(2);
      expectOneLine(
        run,
        `cannot write the deployment state file ${stateFile()}: the file size limit was reached (EFBIG)`,
      );
      expect(readFileSync(stateFile(), 'utf8')).toBe(before);
      expect(readdirSync(state())).toEqual(['deployments.json']);
    },
  );
});

describe('deployment names that are Object.prototype keys', () => {
  it('deployments rm __proto__: no such deployment, not a valid name (exit 2), not "removed undefined"', async () => {
    const before = await seed('gemma-local');
    const run = await runCli(['deployments', 'rm', '__proto__'], { env });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, 'no deployment named "__proto__" (not a valid name); known: gemma-local');
    expect(readFileSync(stateFile(), 'utf8')).toBe(before);
  });

  it.each(['constructor', 'toString', 'valueOf'])(
    'deployments rm %s: no such deployment (exit 2)',
    async (name) => {
      const before = await seed('gemma-local');
      const run = await runCli(['deployments', 'rm', name], { env });
      expect(run.exitCode).toBe(2);
      expectOneLine(run, `no deployment named "${name}"; known: gemma-local`);
      expect(readFileSync(stateFile(), 'utf8')).toBe(before);
    },
  );

  it.each([
    ['serve', 'toString', '--port', '0'],
    ['bench', 'valueOf'],
    ['serve', 'constructor', '--port', '0'],
  ])('%s --model %s: a usage error (exit 2), not a TypeError', async (command, name, ...rest) => {
    await seed('gemma-local');
    const run = await runCli([command, '--model', name, ...rest], { env });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, new RegExp(`^atomr-infer: --model "${name}" is not valid`));
    expect(run.stderr).not.toContain('TypeError');
  });

  it('a deployment named constructor is an ordinary one: chat looks it up, bench uses it, rm removes it', async () => {
    const offRun = await runCli(['chat', '-p', 'hi'], {
      env: { ...env, ATOMR_INFER_GEMMA_DEPLOYMENT: 'constructor', ATOMR_INFER_GEMMA_AUTO: '0' },
    });
    expect(offRun.exitCode).toBe(3);
    expect(offRun.stderr).toContain('no deployment named "constructor" and auto-provisioning is off');

    await seed('constructor');
    const bench = await runCli([...BENCH, '--model', 'constructor'], { env });
    expect(bench.exitCode).toBe(0);
    expectTable(bench);
    const removed = await runCli(['deployments', 'rm', 'constructor'], { env });
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toContain('removed deployment "constructor"');
  });
});

describe('provision meets a corrupt deployments.json first (item 14)', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeServer((_request, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"data":[{"id":"google/gemma-4-E4B-it"}]}');
    });
  });
  afterAll(() => server.close());

  const corrupt = '{"version": 1, "deployments": ';
  const message = () =>
    `deployment state file ${stateFile()} is corrupt (it is not valid JSON); it was left untouched`;

  it('local: exit 2 before probe, pull and load check; the file untouched', async () => {
    mkdirSync(state(), { recursive: true });
    writeFileSync(stateFile(), corrupt);
    const run = await runCli(['provision'], { env: { ...env, ...PROVISION_ENV() } });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, message());
    expect(run.stderr).not.toContain('provision: checking this machine');
    expect(readFileSync(stateFile(), 'utf8')).toBe(corrupt);
  });

  it('remote: exit 2 before the endpoint is contacted', async () => {
    mkdirSync(state(), { recursive: true });
    writeFileSync(stateFile(), corrupt);
    const requests = server.requests.length;
    const run = await runCli(['provision', '--runtime', 'remote', '--endpoint', `${server.url}/v1`], { env });
    expect(run.exitCode).toBe(2);
    expectOneLine(run, message());
    expect(server.requests.length).toBe(requests);
    expect(readFileSync(stateFile(), 'utf8')).toBe(corrupt);
  });
});
