import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, UsageError } from './errors.js';
import type { RunnerSpec } from './model-runner.js';

/**
 * The deployment registry: named runner specs persisted in one JSON state file (see paths.deploymentsFile),
 * so `gemma-local` survives between commands. Writes are atomic (temp file + rename) and serialised by a
 * lock file; a corrupt state file is reported and never overwritten.
 */

const weightSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('huggingface'),
    repo: z.string(),
    revision: z.string().optional(),
    file: z.string().optional(),
  }),
  z.object({ kind: z.literal('local-path'), path: z.string() }),
  z.object({ kind: z.literal('runtime-managed'), id: z.string() }),
]);

const deploymentSchema = z.object({
  name: z.string(),
  runtime: z.enum(['llama-cpp', 'vllm', 'remote']),
  model: z.string(),
  weights: weightSourceSchema,
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const stateSchema = z.object({
  version: z.literal(1),
  deployments: z.record(z.string(), deploymentSchema),
});

export type Deployment = z.infer<typeof deploymentSchema>;
type State = z.infer<typeof stateSchema>;

export interface ApplyResult {
  deployment: Deployment;
  /** False when an identical deployment was already registered (apply is idempotent). */
  changed: boolean;
}

const LOCK_TIMEOUT_MS = 10_000;

export class DeploymentRegistry {
  constructor(
    private readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get path(): string {
    return this.file;
  }

  async list(): Promise<Deployment[]> {
    const state = await this.read();
    return Object.values(state.deployments).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Deployment | undefined> {
    const state = await this.read();
    return state.deployments[name];
  }

  /** Registers or updates `name`. Re-applying the same spec changes nothing, not even timestamps. */
  async apply(name: string, spec: RunnerSpec): Promise<ApplyResult> {
    return this.withLock(async () => {
      const state = await this.read();
      const existing = state.deployments[name];
      if (existing && sameSpec(existing, spec)) return { deployment: existing, changed: false };
      const timestamp = this.now().toISOString();
      const deployment: Deployment = {
        name,
        runtime: spec.runtime,
        model: spec.model,
        weights: spec.weights,
        settings: spec.settings,
        createdAt: existing?.createdAt ?? timestamp,
        updatedAt: timestamp,
      };
      state.deployments[name] = deployment;
      await this.write(state);
      return { deployment, changed: true };
    });
  }

  /** Removes `name`; a usage error naming the known deployments when it does not exist. */
  async remove(name: string): Promise<Deployment> {
    return this.withLock(async () => {
      const state = await this.read();
      const existing = state.deployments[name];
      if (!existing) {
        const known = Object.keys(state.deployments);
        throw new UsageError(
          `no deployment named "${name}"; known: ${known.length ? known.join(', ') : '(none)'}`,
          { code: 'deployment-not-found', hint: 'list them with `atomr-infer deployments`' },
        );
      }
      delete state.deployments[name];
      await this.write(state);
      return existing;
    });
  }

  private async read(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, deployments: {} };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.corrupt('it is not valid JSON');
    }
    const parsed = stateSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.corrupt(`${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'unexpected shape'}`);
    }
    return parsed.data;
  }

  private corrupt(detail: string): ConfigError {
    return new ConfigError(
      `deployment state file ${this.file} is corrupt (${detail}); it was left untouched`,
      {
        code: 'deployments-corrupt',
        hint: `inspect or move it aside (mv "${this.file}" "${this.file}.bak"), then provision again`,
      },
    );
  }

  private async write(state: State): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, this.file);
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(dirname(this.file), { recursive: true });
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (Date.now() > deadline) {
          throw new ConfigError(`deployment state is locked by another atomr-infer process (${lock})`, {
            hint: `if no other atomr-infer is running, remove the stale lock: rm "${lock}"`,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    try {
      return await work();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

function sameSpec(existing: Deployment, spec: RunnerSpec): boolean {
  return (
    existing.runtime === spec.runtime &&
    existing.model === spec.model &&
    stableJson(existing.weights) === stableJson(spec.weights) &&
    stableJson(existing.settings) === stableJson(spec.settings)
  );
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
