import type { VariantId } from '../../core/catalog.js';
import { ENV } from '../../core/env-names.js';
import { SkippedError } from '../../core/errors.js';
import type { Settings } from '../../core/settings.js';
import { pull } from '../../hub/pull.js';
import type { PullRuntime } from '../../hub/runner-files.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { downloadInterrupted } from '../provisioning/abort-on-sigint.js';

/**
 * Download on demand: `chat`, `serve` and `bench` given a catalog model that is not cached fetch it first, as
 * `ollama run` and `llama-server -hf` do. Naming the model on the command line is the consent; only
 * `ATOMR_INFER_GEMMA_AUTO=off` (or `skip-quietly`) forbids it. It is `pull` itself — the same plan, resume,
 * checksums, lock and progress display on stderr — so there is one downloader, and a download stopped here is
 * resumed by `pull` or by the next run, and the other way round. Loaded lazily by the target resolver.
 */

export interface DownloadOnDemandContext {
  env: NodeJS.ProcessEnv;
  /** Names the progress lines: `chat: downloading …`. */
  label: string;
  /** The command's stop signal: the download stops and its partial file stays. */
  signal?: AbortSignal;
  stderr?: Writable;
}

export async function downloadOnDemand(
  id: VariantId,
  runtime: PullRuntime,
  settings: Settings,
  context: DownloadOnDemandContext,
): Promise<void> {
  const { env, label, signal } = context;
  const stderr = context.stderr ?? process.stderr;
  if (settings.auto !== 'on') throw downloadForbidden(id, runtime, env);
  // stdout stays the command's (the answer, the bench table): progress goes to stderr, bars on a terminal.
  const reporter = createPullReporter(reporterMode(false, stderr), { stdout: stderr, stderr, label });
  try {
    await pull({
      model: id,
      runtime,
      ggufOverride: settings.ggufOverride,
      env,
      ...(signal ? { signal } : {}),
      onEvent: (event) => {
        if (event.event === 'plan' && !event.offline && event.downloadBytes > 0) {
          // Why a download starts when the user asked for a chat, before the plan line says how much.
          stderr.write(
            `${label}: ${id} is not downloaded yet; fetching it first (Ctrl-C stops, a rerun resumes)\n`,
          );
        }
        reporter.onEvent(event);
      },
    });
  } catch (error) {
    if (signal?.aborted) throw downloadInterrupted(signal);
    throw error;
  } finally {
    reporter.finish();
  }
}

/** `ATOMR_INFER_GEMMA_AUTO=off` / `skip-quietly`: no command downloads by itself; `pull` still does on request. */
function downloadForbidden(id: VariantId, runtime: PullRuntime, env: NodeJS.ProcessEnv): SkippedError {
  const pullCommand = `atomr-infer pull --model ${id}${runtime === 'vllm' ? ' --runtime vllm' : ''}`;
  return new SkippedError(
    `${id} is not downloaded yet and ${ENV.auto}=${env[ENV.auto]?.trim() ?? ''} forbids downloading it on demand`,
    {
      code: 'auto-off',
      hint: `fetch it with \`${pullCommand}\`, or unset ${ENV.auto} to let the command download it`,
    },
  );
}
