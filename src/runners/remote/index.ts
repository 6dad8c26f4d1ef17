import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';
import { RemoteRunner, type RemoteRunnerOptions } from './runner.js';

export { RemoteRunner, type RemoteRunnerOptions } from './runner.js';
export { parseRemoteSettings, normaliseEndpoint, DEFAULT_API_KEY_ENVS } from './settings.js';

/** A ModelRunner over an OpenAI-compatible endpoint; validates settings now, touches the network on first use. */
export async function createRemoteRunner(
  spec: RunnerSpec,
  options: RemoteRunnerOptions = {},
): Promise<ModelRunner> {
  return new RemoteRunner(spec, options);
}

/** A checked remote runner: the endpoint answered, accepted the key and serves the model (loadWeights). */
export async function connectRemoteRunner(
  spec: RunnerSpec,
  options: RemoteRunnerOptions = {},
): Promise<ModelRunner> {
  const runner = new RemoteRunner(spec, options);
  try {
    await runner.loadWeights(spec.weights);
  } catch (error) {
    await runner.dispose();
    throw error;
  }
  return runner;
}
export { remoteRunnerSpec, type RemoteTarget } from './spec.js';
