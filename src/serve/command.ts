import type { RunnerSpec } from '../core/model-runner.js';
import { createRunner } from '../runners/index.js';
import { parseServeFlags, type ServeFlags } from './options.js';
import { assertHostAllowed, startServer } from './start.js';
import { StopSignals } from './stop-signals.js';

/**
 * `atomr-infer serve`: validate flags, resolve the model, listen, load, serve until SIGINT/SIGTERM, shut down
 * gracefully. A first signal drains (running answers get --shutdown-timeout to finish); a second aborts them.
 * A signal before the server exists ends the command at once with nothing started (exit 0 all the same).
 */

export interface RunnerTarget {
  spec: RunnerSpec;
  /** The model id clients use and `/v1/models` lists. */
  label: string;
  /** Other accepted names (the deployment name, the file name). */
  aliases: string[];
}

export interface ServeCommandContext {
  setExitCode: (code: number) => void;
  resolveTarget: (parallel: number) => Promise<RunnerTarget>;
  env?: NodeJS.ProcessEnv;
  /** Signals caught since the command started (src/cli/commands/serve.ts); else caught from here on. */
  signals?: StopSignals;
}

export async function runServeCommand(flags: ServeFlags, context: ServeCommandContext): Promise<void> {
  const signals = context.signals ?? new StopSignals();
  try {
    await serveUntilStopped(flags, context, signals);
  } finally {
    if (!context.signals) signals.dispose();
  }
}

async function serveUntilStopped(
  flags: ServeFlags,
  context: ServeCommandContext,
  signals: StopSignals,
): Promise<void> {
  const options = parseServeFlags(flags, context.env ?? process.env);
  assertHostAllowed(options.host, options.apiKey);
  const resolving = context.resolveTarget(options.parallel);
  // When a signal wins the race below, how the resolution ends no longer matters (nothing is left running
  // that could lose data: a download keeps its partial file for the next run to resume).
  resolving.catch(() => undefined);
  const target = await Promise.race([resolving, signals.first.then(() => undefined)]);
  if (!target) return;

  const server = await startServer({
    host: options.host,
    port: options.port,
    model: { id: target.label, aliases: target.aliases, created: Math.floor(Date.now() / 1000) },
    loadRunner: async () => {
      const runner = await createRunner(target.spec);
      // Local runners load in createRunner; a remote one checks the endpoint, key and model here.
      if (runner.runtimeKind === 'remote') {
        await runner.loadWeights(target.spec.weights).catch(async (error: unknown) => {
          await runner.dispose();
          throw error;
        });
      }
      return runner;
    },
    parallel: options.parallel,
    maxQueue: options.maxQueue,
    apiKey: options.apiKey,
    bodyLimit: options.bodyLimit,
    shutdownGraceMs: options.shutdownGraceMs,
    log: { level: options.logLevel, format: options.logFormat },
  });

  // Each signal calls server.close() once: the first drains, the second aborts what is still running. Signals
  // that came while the port was being bound count too.
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping = server.close();
  };
  for (let i = 0; i < signals.received; i++) stop();
  signals.onEach(stop);
  try {
    await server.ready;
  } catch (error) {
    await server.close();
    throw error;
  }
  if (signals.received === 0) {
    server.app.log.info({ url: `${server.url}/v1`, model: target.label }, 'serving');
  }
  await signals.first;
  await stopping;
}
