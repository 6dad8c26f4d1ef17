import { StopSignals } from '../core/stop-signals.js';
import type { TargetResolver } from '../core/target.js';
import { createRunner } from '../runners/index.js';
import { parseServeFlags, type ServeFlags } from './options.js';
import { assertHostAllowed, startServer } from './start.js';

/**
 * `atomr-infer serve`: validate flags, resolve the model, listen, load, serve until a stop signal, shut down
 * gracefully. The one stop policy (src/core/stop-signals.ts): the first SIGINT/SIGTERM/SIGHUP drains (running
 * answers get --shutdown-timeout to finish), frees the model and exits 0 — a stop is serve's normal end; a signal
 * before the server exists ends the command with nothing started (exit 0 all the same). A second signal leaves at
 * once with its code (130, 143, 129).
 */

export interface ServeCommandContext {
  setExitCode: (code: number) => void;
  /** The one target resolver (src/cli/target/resolve.ts), given `--parallel`. */
  resolveTarget: TargetResolver;
  env?: NodeJS.ProcessEnv;
  /** Held since the command started (src/cli/commands/serve.ts); else held from here on. */
  stop?: StopSignals;
}

export async function runServeCommand(flags: ServeFlags, context: ServeCommandContext): Promise<void> {
  const stop = context.stop ?? new StopSignals();
  try {
    await serveUntilStopped(flags, context, stop);
  } finally {
    if (!context.stop) stop.dispose();
  }
}

async function serveUntilStopped(
  flags: ServeFlags,
  context: ServeCommandContext,
  stop: StopSignals,
): Promise<void> {
  const options = parseServeFlags(flags, context.env ?? process.env);
  assertHostAllowed(options.host, options.apiKey);
  const resolving = context.resolveTarget(options.parallel, stop.signal);
  // When a signal wins the race below, how the resolution ends no longer matters: the same signal stops a
  // download on demand, which keeps its partial file for the next run to resume.
  resolving.catch(() => undefined);
  const target = await Promise.race([resolving, stop.first.then(() => undefined)]);
  if (!target) return;

  const server = await startServer({
    host: options.host,
    port: options.port,
    model: { id: target.label, aliases: target.aliases, created: Math.floor(Date.now() / 1000) },
    loadRunner: () => createRunner(target.spec),
    parallel: options.parallel,
    maxQueue: options.maxQueue,
    apiKey: options.apiKey,
    bodyLimit: options.bodyLimit,
    media: { remote: options.remoteMedia },
    shutdownGraceMs: options.shutdownGraceMs,
    log: { level: options.logLevel, format: options.logFormat },
  });

  // The first signal (even one that came while the port was being bound) drains: server.close() lets running
  // answers finish within the grace period, then aborts them.
  let stopping: Promise<void> | undefined;
  stop.onStop(() => {
    stopping = server.close();
  });
  try {
    await server.ready;
  } catch (error) {
    await server.close();
    throw error;
  }
  if (stop.received === 0) {
    server.app.log.info({ url: `${server.url}/v1`, model: target.label }, 'serving');
  }
  await stop.first;
  await stopping;
}
