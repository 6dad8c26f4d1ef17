import { ConfigError, UsageError } from '../../core/errors.js';
import type { RunnerSpec } from '../../core/model-runner.js';
import { normaliseEndpoint } from './settings.js';

/**
 * The RunnerSpec for `--runtime remote --endpoint <url> --model <name>` (chat, serve, bench, provision), so
 * every command builds it the same way. The key is referenced by variable name only: a deployment file
 * never holds the secret.
 */
export interface RemoteTarget {
  endpoint: string;
  /** The model name the endpoint serves. */
  model: string;
  /** Environment variable holding the key (default: ATOMR_INFER_REMOTE_API_KEY, then OPENAI_API_KEY). */
  apiKeyEnv?: string | undefined;
}

export function remoteRunnerSpec(target: RemoteTarget): RunnerSpec {
  let endpoint: string;
  try {
    endpoint = normaliseEndpoint(target.endpoint).href;
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(error.message.replace(/^remote endpoint/, '--endpoint'), {
        code: 'usage',
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  }
  const model = target.model.trim();
  if (model === '') {
    throw new UsageError('--model "" is not valid: expected the model name the endpoint serves', {
      hint: `list them: curl ${endpoint}/models`,
    });
  }
  const settings: Record<string, unknown> = { endpoint };
  if (target.apiKeyEnv) settings.apiKeyEnv = target.apiKeyEnv;
  return { runtime: 'remote', model, weights: { kind: 'runtime-managed', id: model }, settings };
}
