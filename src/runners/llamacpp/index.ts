import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';

export async function createLlamaCppRunner(_spec: RunnerSpec): Promise<ModelRunner> {
  throw new Error('llama.cpp runner: not implemented yet');
}
