import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentRegistry } from '../../src/core/deployments.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import type { RunnerSpec } from '../../src/core/model-runner.js';
import { StateFileError } from '../../src/core/state-files.js';

let dir: string;
let file: string;
let clock: number;
const registry = () => new DeploymentRegistry(file, () => new Date(clock));

const spec = (overrides: Partial<RunnerSpec> = {}): RunnerSpec => ({
  runtime: 'llama-cpp',
  model: 'google/gemma-4-E2B-it',
  weights: { kind: 'huggingface', repo: 'ggml-org/gemma-4-E2B-it-GGUF', file: 'gemma-4-E2B-it-Q4_K_M.gguf' },
  settings: { contextSize: 4096, threads: 1 },
  ...overrides,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomr-deploy-'));
  file = join(dir, 'state', 'deployments.json');
  clock = Date.parse('2025-01-01T00:00:00Z');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DeploymentRegistry', () => {
  it('starts empty when the state file does not exist', async () => {
    expect(await registry().list()).toEqual([]);
    expect(await registry().get('gemma-local')).toBeUndefined();
  });

  it('persists a deployment across instances, in a private file', async () => {
    const { deployment, changed } = await registry().apply('gemma-local', spec());
    expect(changed).toBe(true);
    expect(deployment).toMatchObject({
      name: 'gemma-local',
      runtime: 'llama-cpp',
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    expect(await registry().get('gemma-local')).toEqual(deployment);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is idempotent: the same spec changes nothing, not even the file', async () => {
    await registry().apply('gemma-local', spec());
    const before = readFileSync(file, 'utf8');
    clock += 60_000;
    // Same settings in another key order are the same spec.
    const again = await registry().apply(
      'gemma-local',
      spec({ settings: { threads: 1, contextSize: 4096 } }),
    );
    expect(again.changed).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('updates a changed spec, keeping createdAt and moving updatedAt', async () => {
    await registry().apply('gemma-local', spec());
    clock += 60_000;
    const { deployment, changed } = await registry().apply(
      'gemma-local',
      spec({ settings: { contextSize: 8192 } }),
    );
    expect(changed).toBe(true);
    expect(deployment.createdAt).toBe('2025-01-01T00:00:00.000Z');
    expect(deployment.updatedAt).toBe('2025-01-01T00:01:00.000Z');
  });

  it('lists deployments sorted by name and removes one', async () => {
    await registry().apply('zeta', spec());
    await registry().apply('alpha', spec({ runtime: 'vllm' }));
    expect((await registry().list()).map((d) => d.name)).toEqual(['alpha', 'zeta']);
    const removed = await registry().remove('zeta');
    expect(removed.name).toBe('zeta');
    expect((await registry().list()).map((d) => d.name)).toEqual(['alpha']);
  });

  it('names the known deployments when removing an unknown one', async () => {
    await registry().apply('gemma-local', spec());
    const error = await registry()
      .remove('nope')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('no deployment named "nope"; known: gemma-local');
  });

  it('serialises concurrent writers with its lock: every apply survives', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(names.map((name) => registry().apply(name, spec())));
    expect((await registry().list()).map((d) => d.name)).toEqual(names);
    // No lock or temp file is left behind.
    expect(readdirSync(dirname(file))).toEqual(['deployments.json']);
  });

  it.each([
    ['not JSON', '{"version": 1, "deployments": ', 'it is not valid JSON'],
    ['the wrong shape', '{"version": 2, "deployments": {}}', 'version'],
    ['a bad entry', '{"version": 1, "deployments": {"x": {"name": "x"}}}', 'deployments.x'],
  ])('reports a corrupt state file (%s) and never overwrites it', async (_, text, detail) => {
    await mkdir(dirname(file), { recursive: true });
    writeFileSync(file, text);
    for (const attempt of [
      () => registry().list(),
      () => registry().apply('gemma-local', spec()),
      () => registry().remove('x'),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(`deployment state file ${file} is corrupt`);
      expect((error as ConfigError).message).toContain(detail);
      expect((error as ConfigError).hint).toContain('.bak');
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('DeploymentRegistry: names that are also Object.prototype keys', () => {
  const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

  it.each(PROTOTYPE_NAMES)('finds no deployment named %s in an empty or a filled registry', async (name) => {
    expect(await registry().get(name)).toBeUndefined();
    await registry().apply('gemma-local', spec());
    expect(await registry().get(name)).toBeUndefined();
  });

  it('removing one that does not exist names the known ones, and changes nothing', async () => {
    await registry().apply('gemma-local', spec());
    const before = readFileSync(file, 'utf8');
    for (const name of ['constructor', 'toString', 'valueOf']) {
      const error = await registry()
        .remove(name)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(`no deployment named "${name}"; known: gemma-local`);
    }
    const invalid = await registry()
      .remove('__proto__')
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(UsageError);
    expect((invalid as UsageError).message).toBe(
      'no deployment named "__proto__" (not a valid name); known: gemma-local',
    );
    expect((invalid as UsageError).hint).toContain('a deployment name is a name of letters, digits');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('keeps `constructor` and `toString` as ordinary deployments', async () => {
    await registry().apply('gemma-local', spec());
    await registry().apply('constructor', spec({ runtime: 'vllm' }));
    await registry().apply('toString', spec());
    expect(await registry().get('constructor')).toMatchObject({ name: 'constructor', runtime: 'vllm' });
    expect((await registry().list()).map((d) => d.name)).toEqual(['constructor', 'gemma-local', 'toString']);
    expect((await registry().remove('constructor')).name).toBe('constructor');
    expect((await registry().list()).map((d) => d.name)).toEqual(['gemma-local', 'toString']);
  });

  it.each(['__proto__', 'my gemma', '../escape', '', 'a'.repeat(64)])(
    'refuses to create a deployment named %j (exit 2, naming the accepted set)',
    async (name) => {
      const error = await registry()
        .apply(name, spec())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('is not valid: expected a name of letters, digits');
      expect(existsSync(file)).toBe(false);
    },
  );

  it('still reads and removes entries whose names predate the rules, and never drops one on a write', async () => {
    await mkdir(dirname(file), { recursive: true });
    const legacy = (name: string) => ({
      name,
      runtime: 'llama-cpp',
      model: 'google/gemma-4-E2B-it',
      weights: { kind: 'local-path', path: '/m.gguf' },
      settings: {},
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    // Written by hand, as JSON.parse sees it: "__proto__" is an own key like any other.
    writeFileSync(
      file,
      `{"version":1,"deployments":{"my gemma":${JSON.stringify(legacy('my gemma'))},"__proto__":${JSON.stringify(legacy('__proto__'))}}}`,
    );
    expect((await registry().list()).map((d) => d.name).sort()).toEqual(['__proto__', 'my gemma']);
    expect(await registry().get('__proto__')).toMatchObject({ name: '__proto__' });
    expect((await registry().remove('my gemma')).name).toBe('my gemma');
    await registry().apply('gemma-local', spec());
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { deployments: object };
    expect(Object.keys(saved.deployments)).toEqual(['__proto__', 'gemma-local']);
    expect((await registry().remove('__proto__')).name).toBe('__proto__');
    expect((await registry().list()).map((d) => d.name)).toEqual(['gemma-local']);
  });
});

describe('DeploymentRegistry: a state directory that cannot be used', () => {
  // Root ignores chmod, so the directory is made unusable in a way the kernel enforces for root too: its
  // parent is a regular file (ENOTDIR on every read and write).
  const blocked = () => {
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    return new DeploymentRegistry(join(dir, 'not-a-dir', 'state', 'deployments.json'));
  };

  it('reading says so in one line, exit 2, naming the file and ATOMR_INFER_HOME', async () => {
    const error = await blocked()
      .list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateFileError);
    expect((error as StateFileError).message).toBe(
      `cannot read the deployment state file ${join(dir, 'not-a-dir', 'state', 'deployments.json')}: a part of its path is a file, not a directory (ENOTDIR)`,
    );
    expect((error as StateFileError).exitCode).toBe(2);
    expect((error as StateFileError).hint).toContain('ATOMR_INFER_HOME');
  });

  it('assertUsable fails at once for a corrupt or an unwritable state file, and leaves nothing behind', async () => {
    await expect(blocked().assertUsable()).rejects.toBeInstanceOf(StateFileError);
    await mkdir(dirname(file), { recursive: true });
    writeFileSync(file, '{"version": 1, "deployments": ');
    await expect(registry().assertUsable()).rejects.toMatchObject({ code: 'deployments-corrupt' });
    rmSync(file);
    await registry().assertUsable();
    expect(readdirSync(dirname(file))).toEqual([]);
  });

  it.skipIf(!existsSync('/proc/self'))(
    'writing under /proc fails in one line instead of spinning in mkdir',
    async () => {
      const proc = new DeploymentRegistry('/proc/atomr-infer-test/deployments.json');
      expect(await proc.list()).toEqual([]);
      const error = await proc.apply('gemma-local', spec()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateFileError);
      expect((error as StateFileError).message).toBe(
        'cannot write the deployment state file /proc/atomr-infer-test/deployments.json: a directory on its path does not exist and cannot be created (ENOENT)',
      );
    },
  );

  it.skipIf(spawnSync('mkfifo', ['--version']).status !== 0)(
    'refuses a named pipe as the state file instead of blocking on it',
    async () => {
      await mkdir(dirname(file), { recursive: true });
      expect(spawnSync('mkfifo', [file]).status).toBe(0);
      await expect(registry().list()).rejects.toMatchObject({ code: 'state-unreadable' });
    },
  );
});
