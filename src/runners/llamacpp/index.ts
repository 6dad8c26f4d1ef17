import type { ModelRunner, RunnerSpec } from '../../core/model-runner.js';
import { LlamaCppRunner } from './runner.js';
import { parseLlamaCppSettings } from './settings.js';

/**
 * The llama.cpp runner (node-llama-cpp 3.22). Validates `spec.settings`, finds the GGUF (local path or the
 * Hugging Face cache — never the network), preflights its header in JS, then loads it. Errors: ConfigError for
 * bad settings, ModelError for missing/corrupt/unsupported files, RuntimeFailure when llama.cpp itself fails.
 */
export async function createLlamaCppRunner(spec: RunnerSpec): Promise<ModelRunner> {
  const settings = parseLlamaCppSettings(spec.settings);
  return LlamaCppRunner.create(spec, settings);
}

export { LlamaCppRunner } from './runner.js';
export { parseLlamaCppSettings, DEFAULT_CONTEXT_CAP, type LlamaCppSettings } from './settings.js';
export { defaultThreadCount } from '../../core/cpu-threads.js';
export { preflightGguf, type GgufFacts } from './gguf/preflight.js';
export { GEMMA_SAMPLING_DEFAULTS } from './generate.js';
