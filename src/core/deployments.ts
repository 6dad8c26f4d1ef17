import { open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { DEPLOYMENT_NAME_ACCEPTED, isValidDeploymentName } from './deployment-name.js';
import { ENV } from './env-names.js';
import { ConfigError, UsageError } from './errors.js';
import type { RunnerSpec } from './model-runner.js';
import { assertNotSpecial, ensureDirectory, stateFileError, writeFileAtomically } from './state-files.js';

/**
 * The deployment registry: named runner specs persisted in one JSON state file (see paths.deploymentsFile),
 * so `gemma-local` survives between commands. Writes are atomic (temp file + rename) and serialised by a
 * lock file; a corrupt state file is reported and never overwritten; an unreadable or unwritable one is a
 * one-line StateFileError (src/core/state-files.ts).
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
  // Checked entry by entry below: zod's record() silently drops a `__proto__` key, which would lose that entry
  // at the next write.
  deployments: z.custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    { message: 'expected an object of deployments by name' },
  ),
});

export type Deployment = z.infer<typeof deploymentSchema>;
/** Deployments by name. A Map, never a plain object: `__proto__`, `constructor` or `toString` are just names. */
type State = Map<string, Deployment>;

export interface ApplyResult {
  deployment: Deployment;
  /** False when an identical deployment was already registered (apply is idempotent). */
  changed: boolean;
}

const LOCK_TIMEOUT_MS = 10_000;
const WHAT = 'the deployment state file';

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
    return [...state.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Deployment | undefined> {
    const state = await this.read();
    return state.get(name);
  }

  /**
   * Fails now, in milliseconds, where registering would fail after minutes of probing and downloading: the state
   * file must parse (a corrupt one is reported, untouched) and its directory must take a new file.
   */
  async assertUsable(): Promise<void> {
    await this.read();
    const probe = `${this.file}.${process.pid}.${Date.now()}.check.tmp`;
    try {
      await ensureDirectory(dirname(this.file));
      const handle = await open(probe, 'wx');
      await handle.close();
    } catch (error) {
      throw stateFileError('write', this.file, WHAT, error);
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Registers or updates `name`. Re-applying the same spec changes nothing, not even timestamps. Only valid names
   * (src/core/deployment-name.ts) are created; an existing entry is updated whatever its name.
   */
  async apply(name: string, spec: RunnerSpec): Promise<ApplyResult> {
    return this.withLock(async () => {
      const state = await this.read();
      const existing = state.get(name);
      if (!existing) assertValidName(name);
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
      state.set(name, deployment);
      await this.write(state);
      return { deployment, changed: true };
    });
  }

  /**
   * Removes `name`; a usage error naming the known deployments when it does not exist (and the accepted names
   * when it is not a valid name at all). An entry whose name predates the rules can still be removed by name.
   * Nothing is locked or written unless the name exists, so this works on a read-only state directory too.
   */
  async remove(name: string): Promise<Deployment> {
    const current = await this.read();
    if (!current.has(name)) throw this.notFound(name, current);
    return this.withLock(async () => {
      const state = await this.read();
      const existing = state.get(name);
      if (!existing) throw this.notFound(name, state);
      state.delete(name);
      await this.write(state);
      return existing;
    });
  }

  private notFound(name: string, state: State): UsageError {
    // An invalid name cannot exist (unless it predates the rules, and then it was found): say so, with the rule.
    const valid = isValidDeploymentName(name);
    const known = [...state.keys()];
    return new UsageError(
      `no deployment named ${JSON.stringify(name)}${valid ? '' : ' (not a valid name)'}; known: ${known.length ? known.join(', ') : '(none)'}`,
      {
        code: 'deployment-not-found',
        hint: `${valid ? '' : `a deployment name is ${DEPLOYMENT_NAME_ACCEPTED}; `}list them with \`atomr-infer deployments\``,
      },
    );
  }

  private async read(): Promise<State> {
    let text: string;
    try {
      await assertNotSpecial(this.file);
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw stateFileError('read', this.file, WHAT, error);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.corrupt('it is not valid JSON');
    }
    const parsed = stateSchema.safeParse(json);
    if (!parsed.success) throw this.corrupt(describeIssue(parsed.error, []));
    const state: State = new Map();
    // JSON.parse makes every key an own property, `__proto__` included; Object.entries sees them all.
    for (const [name, value] of Object.entries(parsed.data.deployments)) {
      const entry = deploymentSchema.safeParse(value);
      if (!entry.success) throw this.corrupt(describeIssue(entry.error, ['deployments', name]));
      state.set(name, entry.data);
    }
    return state;
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
    // Object.fromEntries defines each key as an own property, so a `__proto__` name is written as a name.
    const json = { version: 1, deployments: Object.fromEntries(state) };
    await writeFileAtomically(this.file, `${JSON.stringify(json, null, 2)}\n`, { what: WHAT, mode: 0o600 });
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    try {
      await ensureDirectory(dirname(this.file));
    } catch (error) {
      throw stateFileError('write', this.file, WHAT, error);
    }
    for (;;) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        // The lock file cannot be made: then the state file cannot be written either.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw stateFileError('write', this.file, WHAT, error);
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
      await rm(lock, { force: true }).catch(() => undefined);
    }
  }
}

function assertValidName(name: string): void {
  if (!isValidDeploymentName(name)) {
    throw new UsageError(
      `deployment name ${JSON.stringify(name)} is not valid: expected ${DEPLOYMENT_NAME_ACCEPTED}`,
      { code: 'deployment-name-invalid', hint: `set ${ENV.deployment} to such a name` },
    );
  }
}

function describeIssue(error: z.ZodError, prefix: Array<string | number>): string {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])].map(String).join('.');
  return `${path || 'root'}: ${issue?.message ?? 'unexpected shape'}`;
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
