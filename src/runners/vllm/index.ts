import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';

export async function createVllmRunner(_spec: RunnerSpec): Promise<ModelRunner> {
  throw new Error('vLLM runner: not implemented yet');
}
