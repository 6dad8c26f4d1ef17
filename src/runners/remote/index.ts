import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';

export async function createRemoteRunner(_spec: RunnerSpec): Promise<ModelRunner> {
  throw new Error('remote runner: not implemented yet');
}
