import { RuntimeFailure, UsageError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { integerRule, parseNumberFlag } from '../core/number-flag.js';
import { StopSignals } from '../core/stop-signals.js';
import type { ModelRunner } from '../core/model-runner.js';
import type { TargetResolver } from '../core/target.js';
import { benchResultsFile } from '../core/paths.js';
import { createRunner } from '../runners/index.js';
import { measureLevel, timeOne } from './measure.js';
import { appendResults, formatTable, newRunId, type BenchRun } from './report.js';

/**
 * `atomr-infer bench`: loads the model once, warms it up, then runs each concurrency level in turn and reports
 * time to first token, per-stream and aggregate tokens/s. Figures go to stdout (a table, or JSON with --json),
 * progress to stderr, and every run is appended to the results file (after the figures are printed: when that
 * file cannot be written, the command still shows the figures, then fails with exit 2 naming the file).
 */

export interface BenchFlags {
  concurrency?: string;
  maxTokens?: string;
  requests?: string;
  prompt?: string;
  json?: boolean;
}

export interface BenchCommandContext {
  setExitCode: (code: number) => void;
  /** The one target resolver (src/cli/target/resolve.ts), given the highest concurrency. */
  resolveTarget: TargetResolver;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
}

export interface BenchOptions {
  concurrency: number[];
  maxTokens: number;
  /** Per level; `undefined`: twice the concurrency, at least 4. */
  requests: number | undefined;
  prompt: string;
  json: boolean;
}

const DEFAULT_PROMPT = 'Write a short story about a lighthouse keeper who finds a message in a bottle.';

export function parseBenchFlags(flags: BenchFlags): BenchOptions {
  const list = (flags.concurrency ?? '1,2,4,8').split(',').map((part) => part.trim());
  const levels = list.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (levels.length === 0 || levels.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    throw new UsageError(
      `--concurrency ${JSON.stringify(flags.concurrency)} is not valid: expected comma-separated integers from 1 to 64 (e.g. 1,2,4,8)`,
    );
  }
  const maxTokens = intFlag('--max-tokens', flags.maxTokens, 1, 1_048_576) ?? 128;
  const requests = intFlag('--requests', flags.requests, 1, 100_000);
  const prompt = flags.prompt ?? DEFAULT_PROMPT;
  if (prompt.trim() === '') {
    throw new UsageError(`--prompt ${JSON.stringify(prompt)} is not valid: expected a prompt with some text`);
  }
  return { concurrency: [...new Set(levels)], maxTokens, requests, prompt, json: flags.json === true };
}

/** An integer flag from `min` to `max` (the one numeric-flag parser, core/number-flag). */
function intFlag(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  return parseNumberFlag(integerRule(flag, min, max), raw, 'bench');
}

export async function runBenchCommand(flags: BenchFlags, context: BenchCommandContext): Promise<BenchRun> {
  const options = parseBenchFlags(flags);
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  // The one stop policy (src/core/stop-signals.ts), from the start: a signal at any step ends the run with its
  // code (130 SIGINT, 143 SIGTERM) once the step returns; a second one leaves at once.
  const stop = new StopSignals();
  const progress = progressWriter(stderr);
  let runner: ModelRunner | undefined;
  try {
    const target = await context.resolveTarget(Math.max(...options.concurrency), stop.signal);
    progress(`loading ${target.label} (${target.spec.runtime})…`);
    runner = await createRunner(target.spec);
    const description = runner.describe();
    const mode = description.mode;
    progress('warming up…');
    // The first answer pays one-off costs (graph build, caches, connection): keep it out of the figures.
    await timeOne(
      runner,
      {
        requestId: 'bench-warmup',
        model: target.spec.model,
        messages: [{ role: 'user', content: options.prompt }],
        sampling: { maxTokens: Math.min(8, options.maxTokens) },
        stream: true,
        mode,
      },
      stop.signal,
    );
    const run: BenchRun = {
      runId: newRunId(),
      timestamp: new Date().toISOString(),
      model: target.label,
      runtime: target.spec.runtime,
      device: description.device,
      maxTokens: options.maxTokens,
      levels: [],
    };
    for (const concurrency of options.concurrency) {
      const requests = options.requests ?? Math.max(4, 2 * concurrency);
      const level = await measureLevel(runner, {
        concurrency,
        requests,
        maxTokens: options.maxTokens,
        prompt: options.prompt,
        mode,
        model: target.spec.model,
        signal: stop.signal,
        onProgress: (done, total) => progress(`concurrency ${concurrency}: ${done}/${total} answers`),
      });
      if (stop.signal.aborted) throw stop.interrupted('bench interrupted');
      run.levels.push(level);
      progress(
        `concurrency ${concurrency}: ${level.aggregateTokPerSec.toFixed(1)} tok/s aggregate, TTFT p50 ${level.ttftMs.p50.toFixed(1)} ms`,
        true,
      );
    }
    const failed = run.levels.reduce((sum, level) => sum + level.errors, 0);
    const total = run.levels.reduce((sum, level) => sum + level.requests, 0);
    if (failed === total) {
      throw new RuntimeFailure(
        `every benchmark request failed: ${run.levels[0]?.firstError ?? 'unknown error'}`,
        {
          code: 'bench-failed',
        },
      );
    }
    // The figures first: an unwritable results file must not cost the run it took minutes to measure.
    stdout.write(options.json ? `${JSON.stringify(run)}\n` : formatTable(run));
    const file = benchResultsFile(context.env ?? process.env);
    // Throws a StateFileError (exit 2) naming the file; the table above stays the run's record.
    await appendResults(file, run);
    if (!options.json) stderr.write(`results appended to ${file}\n`);
    if (failed > 0) context.setExitCode(ExitCode.Runtime);
    return run;
  } catch (error) {
    if (stop.signal.aborted) throw stop.interrupted('bench interrupted');
    throw error;
  } finally {
    progress('', true);
    stop.dispose();
    await runner?.dispose();
  }
}

/** One status line rewritten in place on a terminal; plain lines (final ones only) elsewhere. */
function progressWriter(stderr: NodeJS.WriteStream): (text: string, final?: boolean) => void {
  const tty = stderr.isTTY === true;
  let last = 0;
  return (text, final = false) => {
    if (tty) {
      const now = Date.now();
      if (!final && now - last < 100) return;
      last = now;
      stderr.write(`\r\x1b[2K${text}${final && text ? '\n' : ''}`);
    } else if (final && text) {
      stderr.write(`${text}\n`);
    } else if (!final && !/\d+\/\d+ answers$/.test(text)) {
      stderr.write(`${text}\n`);
    }
  };
}
