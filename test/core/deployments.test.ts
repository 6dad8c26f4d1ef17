import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentRegistry } from '../../src/core/deployments.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import type { RunnerSpec } from '../../src/core/model-runner.js';

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
