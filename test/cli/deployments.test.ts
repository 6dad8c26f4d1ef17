import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentRegistry } from '../../src/core/deployments.js';
import { jsonLines, runCli } from '../hub/cli.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomr-deployments-'));
  env = { PATH: process.env.PATH ?? '', HOME: dir, ATOMR_INFER_HOME: join(dir, 'state') };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seed(): Promise<void> {
  const registry = new DeploymentRegistry(join(dir, 'state', 'deployments.json'));
  await registry.apply('gemma-local', {
    runtime: 'llama-cpp',
    model: 'google/gemma-4-E2B-it',
    weights: {
      kind: 'huggingface',
      repo: 'ggml-org/gemma-4-E2B-it-GGUF',
      revision: 'c'.repeat(40),
      file: 'gemma-4-E2B-it-Q4_K_M.gguf',
    },
    settings: { contextSize: 4096, threads: 1 },
  });
  await registry.apply('big', {
    runtime: 'vllm',
    model: 'google/gemma-4-E4B-it',
    weights: { kind: 'huggingface', repo: 'google/gemma-4-E4B-it', revision: 'd'.repeat(40) },
    settings: {},
  });
}

describe('atomr-infer deployments', () => {
  it('says how to create one when there are none', async () => {
    const result = await runCli(['deployments'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('atomr-infer provision');
  });

  it('lists them as a table and as JSON', async () => {
    await seed();
    const table = await runCli(['deployments'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+RUNTIME\s+MODEL\s+WEIGHTS\s+UPDATED$/);
    expect(lines[1]).toMatch(/^big\s+vllm\s+google\/gemma-4-E4B-it\s+google\/gemma-4-E4B-it@dddddddd\s/);
    expect(lines[2]).toMatch(
      /^gemma-local\s+llama-cpp\s+google\/gemma-4-E2B-it\s+ggml-org\/gemma-4-E2B-it-GGUF\/gemma-4-E2B-it-Q4_K_M\.gguf@cccccccc\s/,
    );

    const json = await runCli(['deployments', '--json'], env);
    const [payload] = jsonLines(json.stdout);
    expect(payload?.file).toBe(join(dir, 'state', 'deployments.json'));
    expect((payload?.deployments as Array<{ name: string }>).map((d) => d.name)).toEqual([
      'big',
      'gemma-local',
    ]);
  });

  it('removes one by name and leaves the others', async () => {
    await seed();
    const result = await runCli(['deployments', 'rm', 'big', '--json'], env);
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ removed: { name: 'big', runtime: 'vllm' } });
    const left = await new DeploymentRegistry(join(dir, 'state', 'deployments.json')).list();
    expect(left.map((d) => d.name)).toEqual(['gemma-local']);
  });

  it('names the known deployments when asked to remove an unknown one (exit 2)', async () => {
    await seed();
    const result = await runCli(['deployments', 'rm', 'nope'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no deployment named "nope"; known: (big, gemma-local|gemma-local, big)/);
  });

  it('reports a corrupt state file (exit 2) and leaves it untouched', async () => {
    await mkdir(join(dir, 'state'), { recursive: true });
    const file = join(dir, 'state', 'deployments.json');
    await writeFile(file, '{"version": 1, "deployments": [');
    const result = await runCli(['deployments', 'rm', 'gemma-local'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is corrupt');
    expect(await readFile(file, 'utf8')).toBe('{"version": 1, "deployments": [');
  });
});
