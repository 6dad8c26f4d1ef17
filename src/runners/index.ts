import type { ModelRunner, RunnerSpec } from '../core/model-runner.js';

/**
 * Builds the runner a spec names. Each runner module is imported only when used, so a vLLM user never loads
 * node-llama-cpp and a llama.cpp user never starts Python.
 */
export async function createRunner(spec: RunnerSpec): Promise<ModelRunner> {
  switch (spec.runtime) {
    case 'llama-cpp':
      return (await import('./llamacpp/index.js')).createLlamaCppRunner(spec);
    case 'vllm':
      return (await import('./vllm/index.js')).createVllmRunner(spec);
    case 'remote':
      return (await import('./remote/index.js')).createRemoteRunner(spec);
  }
}
