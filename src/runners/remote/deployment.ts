import { DeploymentRegistry, type ApplyResult } from '../../core/deployments.js';
import { UsageError } from '../../core/errors.js';
import { deploymentsFile } from '../../core/paths.js';
import { resolveSettings } from '../../core/settings.js';
import { RemoteRunner } from './runner.js';
import { remoteRunnerSpec } from './spec.js';

/**
 * `provision --runtime remote --endpoint <url> [--model <name>]`: registers a deployment of runtime `remote`
 * (default name gemma-local, from ATOMR_INFER_GEMMA_DEPLOYMENT) after checking that the endpoint answers,
 * accepts the key and serves the model. Nothing is downloaded; the key stays in the environment.
 */

export interface RemoteProvisionFlags {
  runtime?: string;
  endpoint?: string;
  model?: string;
}

export interface RemoteProvisionResult extends ApplyResult {
  /** The endpoint was reached and listed the model (or has no model list). */
  loadChecked: true;
}

export function wantsRemote(flags: RemoteProvisionFlags): boolean {
  return flags.runtime?.trim() === 'remote' || flags.endpoint !== undefined;
}

export async function provisionRemote(
  flags: RemoteProvisionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteProvisionResult> {
  const runtime = flags.runtime?.trim();
  if (runtime !== undefined && runtime !== 'remote') {
    throw new UsageError(`--endpoint applies to --runtime remote, not --runtime ${runtime}`);
  }
  if (flags.endpoint === undefined) {
    throw new UsageError('--runtime remote needs --endpoint <url>', {
      hint: 'e.g. provision --runtime remote --endpoint http://10.0.0.5:8000/v1 --model google/gemma-4-E4B-it',
    });
  }
  // The deployment name and the default model come from the usual settings; the model may be any name the
  // endpoint serves, so only a missing --model falls back to the catalog default.
  const settings = resolveSettings(env, {});
  const spec = remoteRunnerSpec({ endpoint: flags.endpoint, model: flags.model ?? settings.model });
  // A corrupt or unwritable state file fails before the endpoint is contacted.
  const registry = new DeploymentRegistry(deploymentsFile(env));
  await registry.assertUsable();
  const runner = new RemoteRunner(spec, { env });
  try {
    await runner.loadWeights(spec.weights);
  } finally {
    await runner.dispose();
  }
  const applied = await registry.apply(settings.deployment, spec);
  return { ...applied, loadChecked: true };
}
