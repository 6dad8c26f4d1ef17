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
 * The vLLM runner. Cheap: validates the settings and returns; Python and vLLM start on the first request (or
 * `loadWeights`), so building a runner never costs vLLM's 5–10 s import.
 */
export async function createVllmRunner(spec: RunnerSpec): Promise<ModelRunner> {
  return new VllmRunner(spec, parseVllmSettings(spec.settings));
}
