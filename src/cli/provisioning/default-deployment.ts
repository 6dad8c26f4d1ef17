import { DeploymentRegistry, type Deployment } from '../../core/deployments.js';
import { ENV } from '../../core/env-names.js';
import { SkippedError, UsageError } from '../../core/errors.js';
import { deploymentsFile, hfHubCacheDir } from '../../core/paths.js';
import type { Settings } from '../../core/settings.js';
import { formatBytes } from '../progress/format.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { downloadInterrupted } from './abort-on-sigint.js';
import { askYesNo, isInteractive, type PromptStreams } from './confirm.js';
import { provision, type DownloadQuestion, type ProvisionDeps } from './provision.js';

/**
 * The deployment `chat`, `serve` and `bench` use without `--model`: the registered one, else — when
 * auto-provisioning is on — provisioned on the spot. Nobody named a model, so a download needs consent: on a
 * terminal by asking; elsewhere `--yes` or `ATOMR_INFER_GEMMA_AUTO=on` set explicitly (the variable's default
 * is on too, but an unset variable is no consent: a chat in a script must not start a multi-GB download by
 * surprise). A model named with `--model` needs none (src/cli/target/download-on-demand.ts).
 */

export interface DefaultDeploymentOptions {
  /** `--yes`: download without asking. */
  yes?: boolean;
  stderr?: Writable & NodeJS.WritableStream;
  stdin?: PromptStreams['input'];
  signal?: AbortSignal;
  deps?: Partial<ProvisionDeps>;
}

export async function ensureDefaultDeployment(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  options: DefaultDeploymentOptions = {},
): Promise<Deployment> {
  const registry = new DeploymentRegistry(deploymentsFile(env));
  const existing = await registry.get(settings.deployment);
  if (existing) return existing;
  if (settings.auto !== 'on') {
    throw new SkippedError(
      `no deployment named "${settings.deployment}" and auto-provisioning is off (${ENV.auto}=${env[ENV.auto]?.trim() ?? ''})`,
      {
        code: 'auto-off',
        hint: `run \`atomr-infer provision\` after unsetting ${ENV.auto}, or chat with \`--model <id|path.gguf>\``,
      },
    );
  }

  const stderr = options.stderr ?? process.stderr;
  const prompt = { input: options.stdin ?? process.stdin, output: stderr };
  const confirmDownload =
    options.yes === true || autoSetOn(settings, env)
      ? undefined
      : async (question: DownloadQuestion): Promise<boolean> => {
          const size = formatBytes(question.downloadBytes);
          if (!isInteractive(prompt)) {
            throw new UsageError(
              `"${settings.deployment}" is not provisioned yet and needs a ${size} download of ${question.repo}; off a terminal that needs --yes or ${ENV.auto}=on`,
              {
                code: 'confirmation-required',
                hint: `pass --yes or set ${ENV.auto}=on, run \`atomr-infer provision --yes\` first, or name a model with --model`,
              },
            );
          }
          return askYesNo(
            `"${settings.deployment}" is not set up yet. Download ${size} of ${question.repo} for ${question.runtime} into ${hfHubCacheDir(env)}?`,
            prompt,
          );
        };

  const reporter = createPullReporter(reporterMode(false, stderr), {
    stdout: stderr,
    stderr,
    label: 'provision',
  });
  stderr.write(`provision: setting up "${settings.deployment}" (${settings.model})…\n`);
  let outcome;
  try {
    outcome = await provision({
      settings,
      env,
      ...(confirmDownload ? { confirmDownload } : {}),
      onEvent: (event) => reporter.onEvent(event),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.deps ? { deps: options.deps } : {}),
    });
  } catch (error) {
    // A signal (the command's StopSignals) stopped it: the partial download stays for the next run.
    if (options.signal?.aborted) throw downloadInterrupted(options.signal);
    throw error;
  } finally {
    reporter.finish();
  }
  if (outcome.status === 'skipped') {
    throw new SkippedError(`cannot set up "${settings.deployment}": ${outcome.reason}`, {
      code: outcome.code,
      ...(outcome.hint ? { hint: outcome.hint } : {}),
    });
  }
  stderr.write(`provision: "${settings.deployment}" is ready\n`);
  return outcome.deployment;
}

/** `ATOMR_INFER_GEMMA_AUTO` set to an on value (`1`, `true`, `yes`, `on`), not merely left at its default. */
function autoSetOn(settings: Settings, env: NodeJS.ProcessEnv): boolean {
  return settings.auto === 'on' && (env[ENV.auto]?.trim() ?? '') !== '';
}
