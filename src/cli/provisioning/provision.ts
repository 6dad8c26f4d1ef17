import { DeploymentRegistry, type Deployment } from '../../core/deployments.js';
import { ENV } from '../../core/env-names.js';
import type { RunnerSpec } from '../../core/model-runner.js';
import { deploymentsFile } from '../../core/paths.js';
import type { Settings } from '../../core/settings.js';
import { StateFileError } from '../../core/state-files.js';
import type { PullEvent } from '../../hub/pull-events.js';
import { planPull, pull, type PullResult } from '../../hub/pull.js';
import type { ProbeReport } from '../../probe/types.js';
import { runnerSpecFor } from './runner-spec.js';

/**
 * provision = probe → (ask) → pull → load check → register. Shared by `atomr-infer provision` and by `chat`
 * when `gemma-local` does not exist yet. Never throws for "this machine cannot run it": that is a
 * `skipped` outcome with a reason and a hint (exit 3); errors are for broken things (exit 2/4/5).
 */

export type ProvisionOutcome =
  | {
      status: 'ready';
      deployment: Deployment;
      /** False when the registry already held exactly this deployment (provision is idempotent). */
      changed: boolean;
      pull: PullResult;
      probe: ProbeReport;
      /** llama.cpp: the model was loaded and unloaded once; vLLM stays lazy (false). */
      loadChecked: boolean;
    }
  | {
      status: 'skipped';
      code: 'auto-off' | 'auto-skip-quietly' | 'probe-skipped' | 'declined';
      reason: string;
      hint?: string;
      /** `skip-quietly`: print nothing at all. */
      quiet: boolean;
      probe?: ProbeReport;
    };

export interface DownloadQuestion {
  repo: string;
  runtime: 'vllm' | 'llama-cpp';
  downloadBytes: number;
  totalBytes: number;
}

export interface ProvisionDeps {
  /** The probe asks the Hub for gating and real sizes itself (the catalog's offline), overlapping its scan. */
  probe: (settings: Settings, env: NodeJS.ProcessEnv) => Promise<ProbeReport>;
  /** Builds the runner (which loads the weights) and disposes it; throws what the runner throws. */
  loadCheck: (spec: RunnerSpec) => Promise<void>;
}

export interface ProvisionOptions {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  /** Asked before a download; resolve false to stop (skipped, "declined"). Absent: never asks. */
  confirmDownload?: (question: DownloadQuestion) => Promise<boolean>;
  onEvent?: (event: PullEvent) => void;
  /** Called before each step, for a status line. */
  onStep?: (step: 'probe' | 'pull' | 'load' | 'register') => void;
  signal?: AbortSignal;
  deps?: Partial<ProvisionDeps>;
}

export async function provision(options: ProvisionOptions): Promise<ProvisionOutcome> {
  const { settings, env } = options;
  if (settings.auto !== 'on') {
    const quiet = settings.auto === 'skip-quietly';
    return {
      status: 'skipped',
      code: quiet ? 'auto-skip-quietly' : 'auto-off',
      reason: `auto-provisioning is off (${ENV.auto}=${env[ENV.auto]?.trim() ?? ''})`,
      hint: `unset ${ENV.auto} (or set it to 1) to provision ${settings.deployment}`,
      quiet,
    };
  }
  const deps: ProvisionDeps = { probe: defaultProbe, loadCheck: defaultLoadCheck, ...options.deps };
  // A corrupt, unreadable or unwritable state file fails here, before minutes of probing and downloading.
  const registry = new DeploymentRegistry(deploymentsFile(env));
  await registry.assertUsable();

  options.onStep?.('probe');
  const report = await deps.probe(settings, env);
  if (report.status !== 'ready' || report.runtime === null) {
    return {
      status: 'skipped',
      code: 'probe-skipped',
      reason: report.reason ?? 'the probe found no runtime that can serve this model here',
      ...(report.hint ? { hint: report.hint } : {}),
      quiet: false,
      probe: report,
    };
  }
  const runtime = report.runtime;
  const pullOptions = {
    model: settings.model,
    runtime,
    ggufOverride: settings.ggufOverride,
    env,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };

  // Planned once: the question and the download use the same answer from the Hub (a Hub that hangs is waited
  // for once, not twice).
  const plan = await planPull(pullOptions);
  if (options.confirmDownload) {
    if (!('local' in plan) && plan.downloadBytes > 0) {
      const yes = await options.confirmDownload({
        repo: plan.repo,
        runtime,
        downloadBytes: plan.downloadBytes,
        totalBytes: plan.totalBytes,
      });
      if (!yes) {
        return {
          status: 'skipped',
          code: 'declined',
          reason: `the download of ${plan.repo} was declined`,
          hint: 'run `atomr-infer provision --yes` when you are ready to download it',
          quiet: false,
          probe: report,
        };
      }
    }
  }

  options.onStep?.('pull');
  const pulled = await pull({ ...pullOptions, plan });
  const spec = runnerSpecFor(report, pulled, settings, env);

  let loadChecked = false;
  if (spec.runtime === 'llama-cpp') {
    options.onStep?.('load');
    await deps.loadCheck(spec);
    loadChecked = true;
  }

  options.onStep?.('register');
  let applied;
  try {
    applied = await registry.apply(settings.deployment, spec);
  } catch (error) {
    // The state directory went bad after the check above (a pull that filled the disk): say what did work.
    if (!(error instanceof StateFileError)) throw error;
    const done = loadChecked ? 'is downloaded and loads' : 'is downloaded';
    throw error.withPrefix(`${settings.deployment} ${done}, but it could not be registered: `);
  }
  return {
    status: 'ready',
    deployment: applied.deployment,
    changed: applied.changed,
    pull: pulled,
    probe: report,
    loadChecked,
  };
}

async function defaultProbe(settings: Settings, env: NodeJS.ProcessEnv): Promise<ProbeReport> {
  const { runProbe } = await import('../../probe/index.js');
  return runProbe({ settings, env });
}

async function defaultLoadCheck(spec: RunnerSpec): Promise<void> {
  const { createRunner } = await import('../../runners/index.js');
  // Creating a runner loads its weights (and fails the way a later `chat` would); then unload at once.
  const runner = await createRunner(spec);
  await runner.dispose();
}
