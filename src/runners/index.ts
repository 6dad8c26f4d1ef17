import type { ModelRunner, RunnerSpec } from '../core/model-runner.js';

/**
 * Builds the runner a spec names and makes it ready: when this resolves, the runner answers at once — llama.cpp
 * has its weights loaded, vLLM's engine is up, a remote endpoint answered, accepted the key and serves the model.
 * One contract for every runtime, so chat, serve, bench and provision's load check never special-case one; a
 * runner that fails to get ready is disposed before the error reaches the caller.
 *
 * Each runner module is imported only when used, so a vLLM user never loads node-llama-cpp and a llama.cpp user
 * never starts Python.
 */
export async function createRunner(spec: RunnerSpec): Promise<ModelRunner> {
  switch (spec.runtime) {
    case 'llama-cpp':
      return (await import('./llamacpp/index.js')).createLlamaCppRunner(spec);
    case 'vllm':
      return (await import('./vllm/index.js')).startVllmRunner(spec);
    case 'remote':
      return (await import('./remote/index.js')).connectRemoteRunner(spec);
  }
}
