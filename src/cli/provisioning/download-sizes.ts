import type { Settings } from '../../core/settings.js';
import { planOnline, pullTarget } from '../../hub/pull-plan.js';
import { createHubClient } from '../../hub/pull.js';
import { hfHubCacheDir } from '../../core/paths.js';
import type { DownloadSizes } from '../../probe/weights-facts.js';

export type { DownloadSizes };

/**
 * Asks the Hub (one model-info request per repo, in parallel, no retries, a few seconds at most) how big each
 * runtime's download really is. Anything that fails — offline, gated, slow — is left out and the probe falls
 * back to the catalog's estimate for it.
 */
export async function measureDownloadSizes(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
  timeoutMs = 5_000,
): Promise<DownloadSizes> {
  const client = createHubClient(env, { retry: { attempts: 1 } });
  const cacheDir = hfHubCacheDir(env);
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const sizeOf = async (runtime: 'vllm' | 'llama-cpp'): Promise<number | undefined> => {
    const target = pullTarget(settings.model, runtime, settings.ggufOverride);
    if (target.repo === null) return undefined;
    const plan = await planOnline({ ...target, repo: target.repo }, 'main', client, cacheDir, combined);
    return plan.totalBytes;
  };
  const [vllm, gguf] = await Promise.allSettled([sizeOf('vllm'), sizeOf('llama-cpp')]);
  const sizes: DownloadSizes = {};
  if (vllm.status === 'fulfilled' && vllm.value !== undefined) sizes.vllmBytes = vllm.value;
  if (gguf.status === 'fulfilled' && gguf.value !== undefined) sizes.ggufBytes = gguf.value;
  return sizes;
}
