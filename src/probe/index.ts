import { ENV } from '../core/env-names.js';
import { hfEndpoint, hfOffline, readHfToken } from '../core/paths.js';
import type { Settings } from '../core/settings.js';
import { redactSecrets } from '../core/secrets.js';
import type { CommandRunner } from '../core/subprocess.js';
import { scanMachine, type MachineFacts, type ScanOptions } from './scan.js';
import type { ProbeReport } from './types.js';
import { evaluateProbe } from './verdict.js';
import { lookupHubFacts, type HubFacts } from './hub-facts.js';
import { inspectWeights, type DownloadSizes } from './weights-facts.js';

/**
 * `atomr-infer probe`: a truthful report of what this machine can run, in well under a second.
 * Every check runs concurrently under its own timeout and every result is reported; nothing here imports
 * node-llama-cpp, pythonia, Ink or execa, and Python is asked about vLLM without importing it.
 */

export type { CheckName, CheckResult, GpuInfo, ProbeReport } from './types.js';
export type { DownloadSizes } from './weights-facts.js';
export type { HubFacts } from './hub-facts.js';
export type { MachineFacts } from './scan.js';
export { scanMachine } from './scan.js';
export { pythonFromEnv } from './python-facts.js';
export { createCommandRunner } from '../core/subprocess.js';

export interface ProbeOptions {
  settings: Settings;
  env?: NodeJS.ProcessEnv;
  commands?: CommandRunner;
  /**
   * What the Hub says about the model's repos (gating, sizes). By default the probe asks it (hub-facts.ts: under
   * 1.5 s, concurrently with the scan, remembered in the state directory); offline, the catalog's facts.
   */
  hubFacts?: Promise<HubFacts>;
  /** A scan already started with `scanMachine` (so it overlaps the caller's own start-up work). */
  scan?: Promise<MachineFacts>;
  /** Fixture roots and per-check timeouts, for tests. */
  scanOptions?: Pick<ScanOptions, 'platform' | 'timeouts' | 'signal'>;
}

export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const started = performance.now();
  const { settings } = options;
  const env = options.env ?? process.env;
  // Started before the scan is awaited, so the Hub request overlaps nvidia-smi and the Python spawn.
  const hub =
    options.hubFacts ?? lookupHubFacts({ model: settings.model, ggufOverride: settings.ggufOverride, env });
  let scan = options.scan;
  let facts = scan ? await scan : undefined;
  // A pre-started scan asked a different interpreter (settings came from elsewhere): ask the right one.
  if (!facts || facts.python.interpreter !== settings.python) {
    scan = scanMachine({
      env,
      python: settings.python,
      ...(options.commands ? { commands: options.commands } : {}),
      ...options.scanOptions,
    });
    facts = await scan;
  }
  const token = readHfToken(env);
  // Also register the token file's value when an environment token wins over it: it is a secret all the same,
  // and a child could echo it.
  if (token && token.source !== 'token-file')
    readHfToken({ ...env, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '' });
  const hubFacts = await hub;
  const downloadSizes: DownloadSizes = {
    ...(hubFacts.vllm.bytes ? { vllmBytes: hubFacts.vllm.bytes } : {}),
    ...(hubFacts.gguf?.bytes ? { ggufBytes: hubFacts.gguf.bytes } : {}),
    ...(hubFacts.gguf?.file ? { ggufFile: hubFacts.gguf.file } : {}),
  };
  const report = evaluateProbe({
    settings,
    facts,
    weightsFor: (model) =>
      inspectWeights(
        model,
        settings.ggufOverride,
        facts.cacheDir,
        model === settings.model ? downloadSizes : {},
      ),
    // Only where the token comes from: its value never leaves paths.ts.
    token: token ? { source: token.source, ...(token.path ? { path: token.path } : {}) } : {},
    hub: hubFacts,
    offline: hfOffline(env),
    endpoint: hfEndpoint(env),
    pythonFromEnv: Boolean(env[ENV.python]?.trim()),
  });
  const elapsedMs = Math.round(Math.max(facts.elapsedMs, performance.now() - started));
  const ordered: ProbeReport = {
    status: report.status,
    model: report.model,
    runtime: report.runtime,
    requestedRuntime: report.requestedRuntime,
    deployment: report.deployment,
    autoProvision: report.autoProvision,
    ...(report.reason === undefined ? {} : { reason: report.reason }),
    ...(report.hint === undefined ? {} : { hint: report.hint }),
    checks: report.checks.map(({ name, ok, value, reason, hint, runtime }) => ({
      name,
      ok,
      value,
      ...(reason === undefined ? {} : { reason }),
      ...(hint === undefined ? {} : { hint }),
      ...(runtime === undefined ? {} : { runtime }),
    })),
    gpus: report.gpus,
    config: report.config,
    ...(report.selectedGpu ? { selectedGpu: report.selectedGpu } : {}),
    ...(report.weights ? { weights: report.weights } : {}),
    ...(report.notes ? { notes: report.notes } : {}),
    ...(report.hub ? { hub: report.hub } : {}),
    elapsedMs,
  };
  // Last line of defence: child output quoted during the scan was redacted before the token file was read
  // (and registered as a secret) above, so redact the finished report once more.
  return JSON.parse(redactSecrets(JSON.stringify(ordered), env)) as ProbeReport;
}
