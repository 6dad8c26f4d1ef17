import type { ModelRunner } from '../core/model-runner.js';
import { Scheduler } from './scheduler.js';

/**
 * What every route of one `serve` process shares: the model (loading, ready, stopping), the scheduler and
 * the generations in flight (so shutdown can abort them).
 */

export type ServeStatus = 'loading' | 'ready' | 'stopping';

export interface ServedModel {
  /** The id `/v1/models` lists and responses echo. */
  id: string;
  /** Other names a request's `model` may use (deployment name, file name). */
  aliases: readonly string[];
  /** Unix seconds. */
  created: number;
}

/** Why a generation was aborted by the server itself (a client disconnect has no reason). */
export const SHUTDOWN_ABORT = 'server-shutdown';

export class ServeContext {
  status: ServeStatus = 'loading';
  private currentRunner: ModelRunner | undefined;
  readonly scheduler: Scheduler;
  private readonly inFlight = new Set<AbortController>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    readonly model: ServedModel,
    options: { parallel: number; maxQueue: number },
  ) {
    this.scheduler = new Scheduler(options.parallel, options.maxQueue);
  }

  get runner(): ModelRunner | undefined {
    return this.currentRunner;
  }

  setReady(runner: ModelRunner): void {
    this.currentRunner = runner;
    if (this.status === 'loading') this.status = 'ready';
  }

  /** True when `name` designates the served model. */
  serves(name: string): boolean {
    return name === this.model.id || this.model.aliases.includes(name);
  }

  get generations(): number {
    return this.inFlight.size;
  }

  track(controller: AbortController): () => void {
    this.inFlight.add(controller);
    return () => {
      this.inFlight.delete(controller);
      if (this.inFlight.size === 0) for (const resolve of [...this.idleWaiters]) resolve();
    };
  }

  /** Stops admitting work: queued requests fail with 503, running ones continue. */
  beginShutdown(): void {
    this.status = 'stopping';
    this.scheduler.close();
  }

  abortAll(): void {
    for (const controller of this.inFlight) controller.abort(SHUTDOWN_ABORT);
  }

  /** Resolves when no generation is in flight, or after `timeoutMs`; true when they all finished. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = (): void => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }
}
