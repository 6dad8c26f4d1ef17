import type { FastifyInstance } from 'fastify';
import { RuntimeFailure, UsageError } from '../core/errors.js';
import type { ModelRunner } from '../core/model-runner.js';
import { buildServeApp, type ServeAppOptions } from './app.js';
import { isLoopbackHost } from './auth.js';
import { ServeContext, type ServedModel } from './context.js';

/**
 * The lifecycle of one `serve` process: listen at once (so /health can say "loading"), load the model,
 * serve, and shut down gracefully: stop accepting, let running answers finish for a grace period, abort
 * what is left, free the model.
 */

export interface ServeOptions extends ServeAppOptions {
  host: string;
  /** 0 picks a free port (tests, bench). */
  port: number;
  model: ServedModel;
  /** Builds and loads the runner; called once, after the server listens. */
  loadRunner: () => Promise<ModelRunner>;
  parallel: number;
  maxQueue: number;
  /** How long running answers may take to finish after a shutdown request. */
  shutdownGraceMs: number;
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  context: ServeContext;
  app: FastifyInstance;
  /** Resolves when the model is loaded; rejects with the load error (the server keeps listening until close). */
  ready: Promise<void>;
  /** Graceful shutdown; a second call aborts running answers at once. Resolves when the model is freed. */
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  assertHostAllowed(options.host, options.apiKey);
  const context = new ServeContext(options.model, { parallel: options.parallel, maxQueue: options.maxQueue });
  const app = buildServeApp(context, options);
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw listenFailure(options, error);
  }
  const url = address;

  let runner: ModelRunner | undefined;
  let closing: Promise<void> | undefined;
  const ready = (async () => {
    app.log.info({ model: options.model.id }, 'loading model');
    const loaded = await options.loadRunner();
    if (closing) {
      await loaded.dispose();
      return;
    }
    runner = loaded;
    context.setReady(loaded);
    const description = loaded.describe();
    app.log.info(
      { model: options.model.id, device: description.device, parallel: options.parallel },
      'ready',
    );
  })();
  // The caller awaits `ready`; this only keeps an unobserved failure from crashing the process.
  ready.catch(() => undefined);

  const shutdown = async (): Promise<void> => {
    context.beginShutdown();
    app.log.info({ running: context.generations }, 'shutting down');
    const stopped = app.close();
    const finished = await context.waitIdle(options.shutdownGraceMs);
    if (!finished) {
      app.log.warn({ running: context.generations }, 'grace period over: aborting running answers');
      context.abortAll();
      await context.waitIdle(5_000);
    }
    // Answers that just ended leave keep-alive sockets behind; close them so `close()` need not wait them out.
    app.server.closeIdleConnections();
    const timer = setTimeout(() => app.server.closeAllConnections(), 2_000);
    await stopped.finally(() => clearTimeout(timer));
    await ready.catch(() => undefined);
    await runner?.dispose();
    app.log.info('stopped');
  };

  return {
    url,
    context,
    app,
    ready,
    close(): Promise<void> {
      if (closing) {
        context.abortAll();
        return closing;
      }
      closing = shutdown();
      return closing;
    },
  };
}

/** Anyone who can reach a non-loopback address could use the model (and the machine's GPU): require a key. */
export function assertHostAllowed(host: string, apiKey: string | undefined): void {
  if (apiKey || isLoopbackHost(host)) return;
  throw new UsageError(
    `refusing to serve on ${host} without an API key: anyone on the network could use it`,
    {
      code: 'serve-needs-key',
      hint: 'set ATOMR_INFER_API_KEY (or pass --api-key), or bind --host 127.0.0.1',
    },
  );
}

function listenFailure(options: ServeOptions, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new UsageError(`port ${options.port} on ${options.host} is already in use`, {
      code: 'serve-port-in-use',
      hint: 'pick another with --port, or stop the other server',
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UsageError(`--host ${options.host} is not an address of this machine`, {
      code: 'serve-bad-host',
    });
  }
  if (code === 'EACCES') {
    return new UsageError(`not allowed to listen on port ${options.port}`, {
      code: 'serve-port-denied',
      hint: 'ports below 1024 need privileges; pick a higher --port',
    });
  }
  return new RuntimeFailure(`could not listen on ${options.host}:${options.port}: ${String(error)}`, {
    code: 'serve-listen',
  });
}
