import { DeploymentRegistry, type Deployment } from '../../core/deployments.js';
import { ENV } from '../../core/env-names.js';
import { SkippedError, UsageError } from '../../core/errors.js';
import { deploymentsFile, hfHubCacheDir } from '../../core/paths.js';
import type { Settings } from '../../core/settings.js';
import { formatBytes } from '../progress/format.js';
import { createPullReporter, reporterMode, type Writable } from '../progress/pull-reporter.js';
import { askYesNo, isInteractive, type PromptStreams } from './confirm.js';
import { provision, type DownloadQuestion, type ProvisionDeps } from './provision.js';

/**
 * The deployment `chat` (and later `serve`) uses without `--model`: the registered one, else — when
 * auto-provisioning is on — provisioned on the spot. A download is confirmed first: on a terminal by asking,
 * elsewhere only with `--yes` (a chat in a script must not start a multi-GB download by surprise).
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
  const confirmDownload = options.yes
    ? undefined
    : async (question: DownloadQuestion): Promise<boolean> => {
        const size = formatBytes(question.downloadBytes);
        if (!isInteractive(prompt)) {
          throw new UsageError(
            `"${settings.deployment}" is not provisioned yet and needs a ${size} download of ${question.repo}; off a terminal that needs --yes`,
            {
              code: 'confirmation-required',
              hint: 'run `atomr-infer provision --yes` first (chat also takes --yes)',
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
