import { ENV } from '../../core/env-names.js';
import type { RunnerSpec } from '../../core/model-runner.js';
import { hfHubCacheDir } from '../../core/paths.js';
import type { Settings } from '../../core/settings.js';
import type { PullResult } from '../../hub/pull.js';
import type { LlamaCppReadyConfig, VllmReadyConfig } from '../../core/ready-config.js';
import type { ProbeReport } from '../../probe/types.js';
import { vllmConfigFromReady } from '../../runners/vllm/config.js';

/**
 * The RunnerSpec a provisioned deployment stores: the probe's ready config translated into the runner's own
 * setting names, and weights pinned to the commit that was pulled, so loading never needs the network and a
 * second provision of the same commit is byte-for-byte the same record (idempotent).
 */
export function runnerSpecFor(
  report: ProbeReport,
  pulled: PullResult,
  settings: Settings,
  env: NodeJS.ProcessEnv,
): RunnerSpec {
  const config = report.config;
  if (config?.runtime === 'vllm') return vllmSpec(config, pulled, settings, env);
  if (config?.runtime === 'llama-cpp') return llamaCppSpec(config, pulled);
  throw new Error('unreachable: a ready probe report always carries a config');
}

function llamaCppSpec(config: LlamaCppReadyConfig, pulled: PullResult): RunnerSpec {
  return {
    runtime: 'llama-cpp',
    model: config.model,
    weights: pulled.weights,
    settings: {
      gpuLayers: config.gpuLayers,
      contextSize: config.contextSize,
      threads: config.threads,
      gpu: config.gpu,
    },
  };
}

function vllmSpec(
  config: VllmReadyConfig,
  pulled: PullResult,
  settings: Settings,
  env: NodeJS.ProcessEnv,
): RunnerSpec {
  // `model` stays out: the runner then loads the pinned repo@commit from the weights.
  const { model: _model, ...engine } = vllmConfigFromReady(config);
  const runnerSettings: Record<string, unknown> = { ...engine, hfCacheDir: hfHubCacheDir(env) };
  if (env[ENV.python]?.trim()) runnerSettings.python = settings.python;
  return { runtime: 'vllm', model: config.model, weights: pulled.weights, settings: runnerSettings };
}
