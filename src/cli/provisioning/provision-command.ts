import { AtomrError, RuntimeFailure } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { hfHubCacheDir } from '../../core/paths.js';
import { redactSecrets } from '../../core/secrets.js';
import { resolveSettings } from '../../core/settings.js';
import { formatBytes } from '../progress/format.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { withSigintAbort } from './abort-on-sigint.js';
import { askYesNo, isInteractive, type PromptStreams } from './confirm.js';
import { describeWeights } from './deployments-command.js';
import { provision, type DownloadQuestion, type ProvisionDeps, type ProvisionOutcome } from './provision.js';

/** `atomr-infer provision` flags as commander hands them over. */
export interface ProvisionFlags {
  model?: string;
  runtime?: string;
  /** vLLM: `multimodal` or `text-only` (see Settings.media). */
  media?: string;
  yes?: boolean;
  json?: boolean;
}

export interface ProvisionCommandContext {
  setExitCode: (code: number) => void;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable & NodeJS.WritableStream;
  stdin?: PromptStreams['input'];
  deps?: Partial<ProvisionDeps>;
}

const STEP_TEXT = {
  probe: 'checking this machine',
  pull: 'fetching the weights',
  load: 'loading the model once to check it works',
  register: 'registering the deployment',
} as const;

export async function runProvisionCommand(
  flags: ProvisionFlags,
  context: ProvisionCommandContext,
): Promise<ProvisionOutcome> {
  const env = context.env ?? process.env;
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  const stdin = context.stdin ?? process.stdin;
  const json = flags.json === true;
  const settings = resolveSettings(env, { model: flags.model, runtime: flags.runtime, media: flags.media });
  const reporter = createPullReporter(reporterMode(json, stderr), { stdout, stderr, label: 'provision' });
  const prompt = { input: stdin, output: stderr };
  // Asked only where a person can answer; elsewhere running `provision` is the consent (scripts, Dockerfiles).
  const confirmDownload =
    flags.yes || json || !isInteractive(prompt)
      ? undefined
      : (question: DownloadQuestion): Promise<boolean> =>
          askYesNo(downloadQuestion(question, hfHubCacheDir(env)), prompt);

  let outcome: ProvisionOutcome;
  let step: keyof typeof STEP_TEXT | undefined;
  try {
    outcome = await withSigintAbort((signal) =>
      provision({
        settings,
        env,
        signal,
        ...(confirmDownload ? { confirmDownload } : {}),
        onEvent: (event) => reporter.onEvent(event),
        onStep: (next) => {
          step = next;
          if (!json) stderr.write(`provision: ${STEP_TEXT[next]}…\n`);
        },
        ...(context.deps ? { deps: context.deps } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof AtomrError) throw error;
    if (step === 'load') {
      // A runner that fails to load without saying why in our terms: still one line, exit 5.
      throw new RuntimeFailure(
        `${settings.deployment} could not be loaded: ${redactSecrets(String(error))}`,
        {
          code: 'load-check-failed',
          hint: 'run `atomr-infer probe` to see what this machine supports',
          cause: error,
        },
      );
    }
    // Anything else unnamed is a bug (exit 1), but still one line that says which step it stopped in, never a
    // false "could not be loaded" for a model that was never loaded or loaded fine.
    const where = step === undefined ? 'before it started' : `while ${STEP_TEXT[step]}`;
    throw new AtomrError(`provision failed ${where}: ${redactSecrets(String(error))}`, {
      code: 'provision-failed',
      hint: 'this is a bug in atomr-infer: please report it with the command you ran',
      cause: error,
    });
  } finally {
    reporter.finish();
  }

  if (outcome.status === 'skipped') {
    context.setExitCode(ExitCode.Skipped);
    if (outcome.quiet) return outcome;
    if (json) {
      stdout.write(`${JSON.stringify(outcomeJson(outcome))}\n`);
    } else {
      stdout.write(`Skipped: ${outcome.reason}\n${outcome.hint ? `hint: ${outcome.hint}\n` : ''}`);
    }
    return outcome;
  }
  context.setExitCode(ExitCode.Ok);
  if (json) {
    stdout.write(`${JSON.stringify(outcomeJson(outcome))}\n`);
  } else {
    const { deployment } = outcome;
    const unchanged = outcome.changed ? '' : ' (unchanged)';
    stdout.write(
      `Ready: ${deployment.name} → ${deployment.model} on ${deployment.runtime} (${describeWeights(deployment)})${unchanged}\n`,
    );
  }
  return outcome;
}

function downloadQuestion(question: DownloadQuestion, cacheDir: string): string {
  const resumed = question.totalBytes - question.downloadBytes;
  const tail = resumed > 0 ? ` (${formatBytes(resumed)} already there)` : '';
  return `Download ${formatBytes(question.downloadBytes)} of ${question.repo} for ${question.runtime} into ${cacheDir}${tail}?`;
}

/** The `provision --json` result line (after any progress events). */
export function outcomeJson(outcome: ProvisionOutcome): Record<string, unknown> {
  if (outcome.status === 'skipped') {
    return {
      event: 'result',
      status: 'skipped',
      code: outcome.code,
      reason: outcome.reason,
      ...(outcome.hint ? { hint: outcome.hint } : {}),
      ...(outcome.probe ? { probe: outcome.probe } : {}),
    };
  }
  return {
    event: 'result',
    status: 'ready',
    changed: outcome.changed,
    loadChecked: outcome.loadChecked,
    deployment: outcome.deployment,
    pull: {
      repo: outcome.pull.repo,
      commit: outcome.pull.commit,
      files: outcome.pull.files,
      downloadedBytes: outcome.pull.downloadedBytes,
      totalBytes: outcome.pull.totalBytes,
      offline: outcome.pull.offline,
    },
    probe: outcome.probe,
  };
}
