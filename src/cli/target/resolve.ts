import { basename, join, resolve } from 'node:path';
import { getVariant, isVariantId, type VariantId } from '../../core/catalog.js';
import { DeploymentRegistry, type Deployment } from '../../core/deployments.js';
import { ENV } from '../../core/env-names.js';
import { ModelError, UsageError } from '../../core/errors.js';
import type { RuntimeKind } from '../../core/model-runner.js';
import { deploymentsFile, hfHubCacheDir } from '../../core/paths.js';
import { parseModelId, resolveSettings, type Settings } from '../../core/settings.js';
import type { ResolvedTarget, TargetResolver } from '../../core/target.js';
import { cachedCommit, cachedSnapshotFiles, repoCacheDir } from '../../hub/cache-layout.js';
import { ggufSpecFor, locateGguf, type GgufSpec } from '../../hub/gguf-source.js';
import { modelPathKind, notARegularFile } from '../../runners/llamacpp/model-file.js';
import { vllmSnapshotComplete } from '../../hub/runner-files.js';
import { remoteRunnerSpec } from '../../runners/remote/spec.js';
import { parseTargetFlags, type TargetCommand, type TargetFlags, type TargetOptions } from './flags.js';

/**
 * The one target resolver: which runner chat, serve and bench drive, for `--model` given as a `.gguf` path, a
 * catalog model id (from the Hugging Face cache, downloaded first when it is not there yet), a deployment name,
 * or `--runtime remote --endpoint <url>`; and without `--model`, the default deployment (gemma-local,
 * provisioned first when absent and allowed). Nothing heavy is loaded here: the download machinery is imported
 * only when something must be downloaded.
 */

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  /** Answers decoded at once: llama.cpp gets that many sequences (serve, bench); chat passes 1. */
  parallel: number;
  /** The command's StopSignals signal: stops a download on the way, keeping the partial file for resume. */
  signal?: AbortSignal | undefined;
  /** Names the download's progress lines (`chat: downloading …`); default `chat`. */
  command?: TargetCommand;
}

/** Context per sequence when `parallel` > 1 and neither --ctx nor ATOMR_INFER_GEMMA_MAX_LEN says. */
const CONTEXT_PER_SEQUENCE = 4096;

/** Runner knobs the target flags set; each runtime gets them under its own setting names. */
interface RunnerKnobs {
  contextSize: number | undefined;
  threads: number | undefined;
}

/**
 * The resolver serve and bench take (they sit beside the CLI and never import it): the target flags validated
 * now, so a typo costs milliseconds, and the target resolved when the command knows how many answers it runs.
 */
export function targetResolver(flags: TargetFlags, command: TargetCommand): TargetResolver {
  const options = parseTargetFlags(flags, command);
  return (parallel, signal) => resolveTarget(options, { env: process.env, parallel, signal, command });
}

export async function resolveTarget(
  options: TargetOptions,
  context: ResolveContext,
): Promise<ResolvedTarget> {
  const target = await resolveUnbatched(options, context);
  if (target.spec.runtime !== 'llama-cpp' || context.parallel <= 1) return target;
  // llama.cpp decodes `parallel` answers together as sequences of one context (continuous batching). Each
  // sequence holds its own context, so without --ctx keep each one modest rather than the chat default.
  const settings: Record<string, unknown> = { ...target.spec.settings, sequences: context.parallel };
  settings.contextSize ??= CONTEXT_PER_SEQUENCE;
  return { ...target, spec: { ...target.spec, settings } };
}

async function resolveUnbatched(options: TargetOptions, context: ResolveContext): Promise<ResolvedTarget> {
  const { env } = context;
  if (isRemoteTarget(options)) return remoteTarget(options);
  const modelFlag = options.model;
  const kind = modelFlag === undefined ? 'default' : await modelKind(modelFlag, env);
  const settings = resolveSettings(env, {
    runtime: options.runtime,
    maxLen: options.ctx,
    model: kind === 'catalog' ? modelFlag : undefined,
  });
  const knobs: RunnerKnobs = { contextSize: settings.maxModelLen, threads: options.threads };

  if (modelFlag === undefined) {
    const deployment = await resolveDefaultDeployment(settings, env, options.yes, context.signal);
    return deploymentTarget(deployment, options, knobs);
  }
  if (kind === 'gguf-path') return ggufPathTarget(modelFlag, settings, options, knobs);
  if (typeof kind === 'object') return deploymentTarget(kind.deployment, options, knobs, modelFlag);
  return catalogTarget(parseModelId(modelFlag, '--model'), settings, knobs, context);
}

/**
 * What `--model` names: a GGUF path, a registered deployment, or (anything else) a catalog id — which
 * parseModelId then validates, suggesting the closest id for a typo. A catalog id or anything with a `/` is
 * never looked up as a deployment name (deployment names have no `/`).
 */
async function modelKind(
  value: string,
  env: NodeJS.ProcessEnv,
): Promise<'gguf-path' | 'catalog' | { deployment: Deployment }> {
  if (looksLikeGgufPath(value)) return 'gguf-path';
  if (isVariantId(value) || value.includes('/')) return 'catalog';
  const deployment = await new DeploymentRegistry(deploymentsFile(env)).get(value);
  return deployment ? { deployment } : 'catalog';
}

/** `--runtime remote` or `--endpoint`: the target is an OpenAI-compatible endpoint. */
export function isRemoteTarget(options: Pick<TargetOptions, 'runtime' | 'endpoint'>): boolean {
  return options.runtime?.trim() === 'remote' || options.endpoint !== undefined;
}

/**
 * `--runtime remote --endpoint <url> --model <name>`: an OpenAI-compatible endpoint (docs/serve.md). Also what
 * `provision --runtime remote` registers, where a missing `--model` is `defaultModel` (the catalog default).
 */
export function remoteTarget(
  options: Pick<TargetOptions, 'runtime' | 'endpoint' | 'model'>,
  defaultModel?: string,
): ResolvedTarget {
  const runtime = options.runtime?.trim();
  if (runtime !== undefined && runtime !== 'remote') {
    throw new UsageError(`--endpoint applies to --runtime remote, not --runtime ${runtime}`);
  }
  if (!options.endpoint) {
    throw new UsageError('--runtime remote needs --endpoint <url>', {
      hint: 'e.g. --runtime remote --endpoint http://10.0.0.5:8000/v1 --model google/gemma-4-E4B-it',
    });
  }
  const model = options.model ?? defaultModel;
  if (model === undefined) {
    throw new UsageError('--runtime remote needs --model <name>: the model name the endpoint serves');
  }
  const spec = remoteRunnerSpec({ endpoint: options.endpoint, model });
  return { spec, label: spec.model, aliases: [], mode: undefined, source: 'remote' };
}

/**
 * A `.gguf` suffix, or an existing file (the runner's preflight rejects it if it is not GGUF), or anything else
 * that exists and is not a catalog id (a directory, a FIFO): reported as what it is, not as an unknown model id.
 */
function looksLikeGgufPath(value: string): boolean {
  if (value.toLowerCase().endsWith('.gguf')) return true;
  const found = modelPathKind(value);
  if (found.kind === 'file') return true;
  return found.kind !== 'missing' && !isVariantId(value);
}

function ggufPathTarget(
  raw: string,
  settings: Settings,
  options: TargetOptions,
  knobs: RunnerKnobs,
): ResolvedTarget {
  if (options.runtime !== undefined && settings.runtime === 'vllm') {
    throw new UsageError(`--runtime vllm cannot load a GGUF file (${raw}): expected llama-cpp or auto`);
  }
  const path = resolve(raw);
  const found = modelPathKind(path);
  if (found.kind === 'missing') {
    throw new ModelError(`--model ${JSON.stringify(raw)}: no such file`, {
      code: 'model-file-missing',
      hint: 'pass a path to a .gguf file or a model id (see `atomr-infer chat --help`)',
    });
  }
  if (found.kind === 'other') {
    throw new ModelError(
      `--model ${JSON.stringify(raw)} ${notARegularFile(found)}: expected a .gguf file or a catalog model id`,
      {
        code: 'model-file-invalid',
        hint:
          found.what === 'is a directory'
            ? 'point at the .gguf file inside it'
            : 'pass the path of a .gguf file, or a model id (see `atomr-infer chat --help`)',
      },
    );
  }
  if (found.kind === 'unreadable') {
    throw new ModelError(`--model ${JSON.stringify(raw)} cannot be read (${found.code})`, {
      code: 'model-file-invalid',
      hint: 'check the path and its permissions',
    });
  }
  return {
    spec: {
      runtime: 'llama-cpp',
      model: basename(path),
      weights: { kind: 'local-path', path },
      settings: runnerSettings('llama-cpp', knobs),
    },
    label: basename(path),
    aliases: [],
    mode: undefined,
    source: 'gguf-path',
  };
}

/**
 * A catalog id: its weights from the Hugging Face cache, downloaded first when they are not there (naming the
 * model is the consent, as with `ollama run`; `ATOMR_INFER_GEMMA_AUTO=off` forbids it).
 */
async function catalogTarget(
  id: VariantId,
  settings: Settings,
  knobs: RunnerKnobs,
  context: ResolveContext,
): Promise<ResolvedTarget> {
  const mode = getVariant(id).instructionTuned ? 'chat' : 'completion';
  const cacheDir = hfHubCacheDir(context.env);
  // `auto` means llama.cpp here: the probe picks vLLM when provisioning; an ad-hoc chat takes vLLM only on request.
  if (settings.runtime === 'vllm') {
    if (!vllmWeightsCached(cacheDir, id)) {
      await downloadMissing(id, 'vllm', settings, context);
      if (!vllmWeightsCached(cacheDir, id)) throw notCached(id, `${id} in ${cacheDir}`);
    }
    return {
      spec: {
        runtime: 'vllm',
        model: id,
        weights: { kind: 'huggingface', repo: id },
        settings: {
          ...runnerSettings('vllm', knobs),
          // The same GPU budget the probe checked, not vLLM's own 0.9 default.
          gpuMemoryUtilization: settings.gpuMemoryUtilization,
          ...(settings.cpuOffloadGb === undefined ? {} : { cpuOffloadGb: settings.cpuOffloadGb }),
        },
      },
      label: id,
      aliases: [],
      mode,
      source: 'catalog',
    };
  }
  const spec = ggufSpecFor(id, settings.ggufOverride);
  let located = locateGguf(spec, cacheDir);
  if (!located) {
    await downloadMissing(id, 'llama-cpp', settings, context);
    located = locateGguf(spec, cacheDir);
    if (!located) throw notCached(id, describeGgufSpec(spec, cacheDir));
  }
  return {
    spec: {
      runtime: 'llama-cpp',
      model: id,
      // Pinned to the file and commit found, so the runner loads exactly what was checked here.
      weights:
        located.repo !== undefined && located.file !== undefined
          ? {
              kind: 'huggingface',
              repo: located.repo,
              file: located.file,
              revision: located.commit ?? 'main',
            }
          : { kind: 'local-path', path: located.path },
      settings: runnerSettings('llama-cpp', knobs),
    },
    label: id,
    aliases: [],
    mode,
    source: 'catalog',
  };
}

function describeGgufSpec(spec: GgufSpec, cacheDir: string): string {
  switch (spec.kind) {
    case 'local':
      return `${spec.path} (from ${ENV.ggufOverride})`;
    case 'hf-file':
      return `${spec.repo}/${spec.file} in ${cacheDir}`;
    case 'hf-quant':
      return `a ${spec.quant} GGUF of ${spec.repo} in ${cacheDir}`;
  }
}

/**
 * A complete snapshot for vLLM: config, weights and every shard the index names. Not just `refs/main`, which a
 * pull writes first: an interrupted download must be resumed, not handed to vLLM half done.
 */
function vllmWeightsCached(cacheDir: string, id: VariantId): boolean {
  const commit = cachedCommit(cacheDir, id, 'main');
  if (!commit) return false;
  return vllmSnapshotComplete(
    cachedSnapshotFiles(cacheDir, id, 'main'),
    join(repoCacheDir(cacheDir, id), 'snapshots', commit),
  );
}

/** Fetches what the runner needs with pull's machinery (loaded only now: probe and --help never pay for it). */
async function downloadMissing(
  id: VariantId,
  runtime: 'vllm' | 'llama-cpp',
  settings: Settings,
  context: ResolveContext,
): Promise<void> {
  const { downloadOnDemand } = await import('./download-on-demand.js');
  await downloadOnDemand(id, runtime, settings, {
    env: context.env,
    label: context.command ?? 'chat',
    ...(context.signal ? { signal: context.signal } : {}),
  });
}

/** Downloaded, yet not where the resolver looks (cannot happen unless the cache changes under us). */
function notCached(id: VariantId, lookedFor: string): ModelError {
  return new ModelError(`${id} is not downloaded yet (looked for ${lookedFor})`, {
    code: 'model-not-cached',
    hint: `fetch it with \`atomr-infer pull --model ${id}\``,
  });
}

/**
 * The deployment `chat` uses without `--model`: `settings.deployment` (default `gemma-local`) from the registry,
 * provisioned first when it is absent and auto-provisioning is on (see src/cli/provisioning/default-deployment.ts).
 */
async function resolveDefaultDeployment(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  yes: boolean,
  signal: AbortSignal | undefined,
): Promise<Deployment> {
  const { ensureDefaultDeployment } = await import('../provisioning/default-deployment.js');
  return ensureDefaultDeployment(settings, env, { yes, ...(signal ? { signal } : {}) });
}

/** A deployment's spec, with the target flags the user set on top; `named`: the name `--model` gave. */
function deploymentTarget(
  deployment: Deployment,
  options: TargetOptions,
  knobs: RunnerKnobs,
  named?: string,
): ResolvedTarget {
  if (
    options.runtime !== undefined &&
    options.runtime.trim() !== 'auto' &&
    options.runtime.trim() !== deployment.runtime
  ) {
    throw new UsageError(
      `--runtime ${options.runtime} does not match deployment "${deployment.name}" (runtime ${deployment.runtime})`,
      { hint: 'omit --runtime: a deployment already says which runtime it uses' },
    );
  }
  return {
    spec: {
      runtime: deployment.runtime,
      model: deployment.model,
      weights: deployment.weights,
      settings: { ...deployment.settings, ...runnerSettings(deployment.runtime, knobs) },
    },
    label: deployment.model,
    // Serve answers to the deployment's name too (and to the name `--model` gave, which is that name).
    aliases: [...new Set([named ?? deployment.name, deployment.name])].filter((n) => n !== deployment.model),
    mode: catalogModeOf(deployment.model),
    source: 'deployment',
  };
}

/** Catalog models know whether they are instruction-tuned; anything else is left to the runner. */
function catalogModeOf(model: string): 'chat' | 'completion' | undefined {
  if (!isVariantId(model)) return undefined;
  return getVariant(model).instructionTuned ? 'chat' : 'completion';
}

/** Only the knobs the user set, under each runtime's own setting names. */
function runnerSettings(runtime: RuntimeKind, knobs: RunnerKnobs): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  if (runtime === 'llama-cpp') {
    if (knobs.contextSize !== undefined) settings.contextSize = knobs.contextSize;
    if (knobs.threads !== undefined) settings.threads = knobs.threads;
  } else if (runtime === 'vllm') {
    if (knobs.contextSize !== undefined) settings.maxModelLen = knobs.contextSize;
  }
  return settings;
}
