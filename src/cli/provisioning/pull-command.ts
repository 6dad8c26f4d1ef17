import { UsageError } from '../../core/errors.js';
import { resolveSettings } from '../../core/settings.js';
import { pull, type PullResult } from '../../hub/pull.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { withSigintAbort } from './abort-on-sigint.js';
import { choosePullRuntime } from './choose-runtime.js';

/** `atomr-infer pull` flags as commander hands them over. */
export interface PullFlags {
  model?: string;
  runtime?: string;
  revision?: string;
  json?: boolean;
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
        onEvent: (event) => reporter.onEvent(event),
      }),
    );
  } finally {
    reporter.finish();
  }
  if (json) {
    stdout.write(`${JSON.stringify({ event: 'result', runtimeChoice: runtime.why, ...result })}\n`);
  } else {
    // The one thing on stdout: where the weights are, for `$(atomr-infer pull)`.
    stdout.write(`${result.ggufPath ?? result.snapshotDir ?? ''}\n`);
  }
  context.setExitCode(0);
  return result;
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
