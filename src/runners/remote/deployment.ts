import { DeploymentRegistry, type ApplyResult } from '../../core/deployments.js';
import type { RunnerSpec } from '../../core/model-runner.js';
import { deploymentsFile } from '../../core/paths.js';
import { resolveSettings } from '../../core/settings.js';
import { connectRemoteRunner } from './index.js';

/**
 * `provision --runtime remote --endpoint <url> [--model <name>]`: registers a deployment of runtime `remote`
 * (default name gemma-local, from ATOMR_INFER_GEMMA_DEPLOYMENT) after checking that the endpoint answers,
 * accepts the key and serves the model. Nothing is downloaded; the key stays in the environment.
 */

export interface RemoteProvisionResult extends ApplyResult {
  /** The endpoint was reached and listed the model (or has no model list). */
  loadChecked: true;
}

/**
 * Registers `spec` (built by the one target resolver, src/cli/target/resolve.ts) as the deployment named by the
 * settings, once the state file is usable and the endpoint has answered, accepted the key and listed the model.
 */
export async function provisionRemote(
  spec: RunnerSpec,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteProvisionResult> {
  const settings = resolveSettings(env, {});
  // A corrupt or unwritable state file fails before the endpoint is contacted.
  const registry = new DeploymentRegistry(deploymentsFile(env));
  await registry.assertUsable();
  const runner = await connectRemoteRunner(spec, { env });
  await runner.dispose();
  const applied = await registry.apply(settings.deployment, spec);
  return { ...applied, loadChecked: true };
}
