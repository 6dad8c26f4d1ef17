import { UsageError } from '../../core/errors.js';
import { resolveSettings } from '../../core/settings.js';
import { pull, type PullResult } from '../../hub/pull.js';
import type { VerifyReport } from '../../hub/verify-cache.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { withSigintAbort } from './abort-on-sigint.js';
import { choosePullRuntime } from './choose-runtime.js';

/** `atomr-infer pull` flags as commander hands them over. */
export interface PullFlags {
  model?: string;
  runtime?: string;
  revision?: string;
  json?: boolean;
  verify?: boolean;
}

export interface PullCommandContext {
  setExitCode: (code: number) => void;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

export async function runPullCommand(flags: PullFlags, context: PullCommandContext): Promise<PullResult> {
  const env = context.env ?? process.env;
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  const settings = resolveSettings(env, { model: flags.model, runtime: flags.runtime });
  const revision = parseRevision(flags.revision);
  const json = flags.json === true;
  const runtime = await choosePullRuntime(settings, env);
  const reporter = createPullReporter(reporterMode(json, stderr), { stdout, stderr });
  let result: PullResult;
  try {
    result = await withSigintAbort((signal) =>
      pull({
        model: settings.model,
        runtime: runtime.runtime,
        revision,
        ggufOverride: settings.ggufOverride,
        env,
        signal,
        verify: flags.verify === true,
        onEvent: (event) => reporter.onEvent(event),
      }),
    );
  } finally {
    reporter.finish();
  }
  if (json) {
    stdout.write(`${JSON.stringify({ event: 'result', runtimeChoice: runtime.why, ...result })}\n`);
  } else {
    if (result.verified) stderr.write(`pull: ${describeVerified(result.verified)}\n`);
    // The one thing on stdout: where the weights are, for `$(atomr-infer pull)`.
    stdout.write(`${result.ggufPath ?? result.snapshotDir ?? ''}\n`);
  }
  context.setExitCode(0);
  return result;
}

/** `3 files verified, none damaged` / `3 files verified, 1 damaged and downloaded again: model.gguf`. */
export function describeVerified(report: VerifyReport): string {
  const files = `${report.checked} file${report.checked === 1 ? '' : 's'} verified`;
  if (report.repaired.length === 0) return `${files}, none damaged`;
  return `${files}, ${report.repaired.length} damaged and downloaded again: ${report.repaired.join(', ')}`;
}

/** A branch, tag or commit: no spaces, no `..`, no leading `/` (it becomes a path under refs/). */
export function parseRevision(raw: string | undefined): string {
  if (raw === undefined) return 'main';
  const value = raw.trim();
  if (!/^[\w][\w.\-/]*$/.test(value) || value.includes('..') || value.endsWith('/')) {
    throw new UsageError(
      `--revision ${JSON.stringify(raw)} is not valid: expected a branch, tag or 40-hex commit (e.g. main)`,
    );
  }
  return value;
}
