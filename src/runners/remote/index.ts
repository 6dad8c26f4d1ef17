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
export { remoteRunnerSpec, type RemoteTarget } from './spec.js';
