import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';
import { parseVllmSettings } from './config.js';
import { VllmRunner } from './runner.js';

export {
  type EngineLogs,
  type VllmConfig,
  type VllmRunnerSettings,
  engineKwargs,
  parseVllmSettings,
  vllmConfigFromReady,
} from './config.js';
export { VllmRunner } from './runner.js';

/**
 * The vLLM runner, not started: validates the settings and returns; Python and vLLM start on the first request,
 * `loadWeights` or `start`. createRunner (src/runners/index.ts) starts it, so the product gets a ready runner.
 */
export async function createVllmRunner(spec: RunnerSpec): Promise<ModelRunner> {
  return new VllmRunner(spec, parseVllmSettings(spec.settings));
}

/** A started vLLM runner: the engine is up (or this rejects with why it is not, and nothing is left running). */
export async function startVllmRunner(spec: RunnerSpec): Promise<ModelRunner> {
  const runner = new VllmRunner(spec, parseVllmSettings(spec.settings));
  await disposeOnFailure(runner, () => runner.start());
  return runner;
}

async function disposeOnFailure(runner: ModelRunner, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await runner.dispose().catch(() => undefined);
    throw error;
  }
}
