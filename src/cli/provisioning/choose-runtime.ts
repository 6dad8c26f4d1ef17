import type { Settings } from '../../core/settings.js';
import type { PullRuntime } from '../../hub/runner-files.js';

export interface RuntimeChoice {
  runtime: PullRuntime;
  /** Why this runtime: `flag-or-env` (explicit), `probe` (what provision would pick) or `fallback`. */
  why: 'flag-or-env' | 'probe' | 'fallback';
}

/**
 * Which weights `pull` fetches when the user did not say. `auto` asks the probe — the same decision
 * `provision` makes, so `pull` then `provision` never downloads the other format — and falls back to
 * llama.cpp (which runs everywhere) when the probe says this machine is skipped.
 */
export async function choosePullRuntime(settings: Settings, env: NodeJS.ProcessEnv): Promise<RuntimeChoice> {
  if (settings.runtime !== 'auto') return { runtime: settings.runtime, why: 'flag-or-env' };
  const { runProbe } = await import('../../probe/index.js');
  const report = await runProbe({ settings, env });
  return report.runtime
    ? { runtime: report.runtime, why: 'probe' }
    : { runtime: 'llama-cpp', why: 'fallback' };
}
