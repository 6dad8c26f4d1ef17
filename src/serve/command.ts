import { ExitCode } from '../core/exit-codes.js';
import type { TargetResolver } from '../core/target.js';
import { createRunner } from '../runners/index.js';
import { parseServeFlags, type ServeFlags } from './options.js';
import { assertHostAllowed, startServer } from './start.js';

/**
 * `atomr-infer serve`: validate flags, resolve the model, listen, load, serve until SIGINT/SIGTERM, shut down
 * gracefully. A first signal drains (running answers get --shutdown-timeout to finish); a second aborts them.
 */

export interface ServeCommandContext {
  setExitCode: (code: number) => void;
  /** The one target resolver (src/cli/target/resolve.ts), given `--parallel`. */
  resolveTarget: TargetResolver;
  env?: NodeJS.ProcessEnv;
}

export async function runServeCommand(flags: ServeFlags, context: ServeCommandContext): Promise<void> {
  const options = parseServeFlags(flags, context.env ?? process.env);
  assertHostAllowed(options.host, options.apiKey);
  const target = await context.resolveTarget(options.parallel);
  const server = await startServer({
    host: options.host,
    port: options.port,
    model: { id: target.label, aliases: target.aliases, created: Math.floor(Date.now() / 1000) },
    loadRunner: () => createRunner(target.spec),
    parallel: options.parallel,
    maxQueue: options.maxQueue,
    apiKey: options.apiKey,
    bodyLimit: options.bodyLimit,
    shutdownGraceMs: options.shutdownGraceMs,
    log: { level: options.logLevel, format: options.logFormat },
  });

  let stopping: Promise<void> | undefined;
  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  let signals = 0;
  const stop = (): void => {
    // The first signal drains; a second one (server.close() again) aborts the answers still running; a third
    // leaves at once (e.g. while a large model is still loading, which cannot be interrupted).
    signals++;
    if (signals >= 3) process.exit(ExitCode.Interrupted);
    stopping = server.close();
    stopRequested();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    try {
      await server.ready;
    } catch (error) {
      await server.close();
      throw error;
    }
    server.app.log.info({ url: `${server.url}/v1`, model: target.label }, 'serving');
    await stopped;
    await stopping;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
