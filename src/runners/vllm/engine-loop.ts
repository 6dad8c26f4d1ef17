import { RuntimeFailure, UsageError } from '../../core/errors.js';
import {
  type AddCommand,
  type StepCommands,
  type StepEvent,
  parseStep,
  requestError,
} from './driver-protocol.js';
import { RequestStream } from './request-stream.js';

/** Sends one step's commands (JSON) and returns the driver's answer (JSON): exactly one bridge call. */
export type StepCall = (commandsJson: string) => Promise<string>;

export interface EngineLoopStats {
  /** Bridge calls made by the loop (one per iteration). */
  calls: number;
  /** Engine steps Python ran during those calls. */
  engineSteps: number;
  /** Wall time of the calls as Node saw them, and the part spent inside the driver. */
  callMs: number;
  pyMs: number;
}

/**
 * The one loop that drives an engine for all of its requests. While any request is live it repeatedly makes a
 * single bridge call that (1) aborts what was cancelled and adds what was submitted since the last call, (2) runs
 * engine steps, and (3) returns every request's new text; the loop then hands each event to the stream of the
 * request it names — our own ids, never the engine's. Nothing polls while no request is live.
 */
export class EngineLoop {
  readonly stats: EngineLoopStats = { calls: 0, engineSteps: 0, callMs: 0, pyMs: 0 };
  private readonly streams = new Map<string, RequestStream>();
  private adds: AddCommand[] = [];
  private aborts: string[] = [];
  private running = false;
  private closed: Error | undefined;

  constructor(
    private readonly step: StepCall,
    /** How long Python may keep stepping without news before answering (bounds add/abort latency). */
    private readonly budgetMs = 100,
  ) {}

  /** Queues a request for the next step; its chunks arrive on the returned stream. */
  submit(command: AddCommand): RequestStream {
    if (this.closed) throw this.closed;
    if (this.streams.has(command.id)) {
      throw new UsageError(`request id ${JSON.stringify(command.id)} is already running on this engine`);
    }
    const stream = new RequestStream(command.id, (cancelled) => this.cancel(cancelled));
    this.streams.set(command.id, stream);
    this.adds.push(command);
    this.kick();
    return stream;
  }

  /** Number of requests submitted and not yet finished. */
  get live(): number {
    return this.streams.size;
  }

  /** Fails every live request with `error` and refuses new ones (the engine is gone). */
  fail(error: Error): void {
    if (!this.closed) this.closed = error;
    const streams = [...this.streams.values()];
    this.reset();
    for (const stream of streams) stream.fail(error);
  }

  /** Ends every live request with finishReason `abort` and refuses new ones (the engine is being torn down). */
  close(): void {
    if (!this.closed)
      this.closed = new RuntimeFailure('the vLLM engine was shut down', { code: 'engine-closed' });
    const streams = [...this.streams.values()];
    this.reset();
    for (const stream of streams) stream.cancel();
  }

  private reset(): void {
    this.streams.clear();
    this.adds = [];
    this.aborts = [];
  }

  private cancel(stream: RequestStream): void {
    if (this.streams.get(stream.requestId) !== stream) return;
    this.streams.delete(stream.requestId);
    const queued = this.adds.findIndex((add) => add.id === stream.requestId);
    if (queued >= 0) {
      this.adds.splice(queued, 1); // never reached the engine
    } else {
      this.aborts.push(stream.requestId);
      this.kick();
    }
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    // Start on the next microtask, so requests submitted in the same tick share the first step.
    queueMicrotask(() => void this.run().finally(() => (this.running = false)));
  }

  private async run(): Promise<void> {
    while (!this.closed && (this.streams.size > 0 || this.aborts.length > 0)) {
      const commands: StepCommands = { add: this.adds, abort: this.aborts, budgetMs: this.budgetMs };
      this.adds = [];
      this.aborts = [];
      const started = performance.now();
      let result;
      try {
        result = parseStep(await this.step(JSON.stringify(commands)));
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (this.closed) return;
      this.stats.calls++;
      this.stats.engineSteps += result.steps;
      this.stats.callMs += performance.now() - started;
      this.stats.pyMs += result.pyMs;
      for (const event of result.events) this.dispatch(event);
      if (result.pending === 0 && this.adds.length === 0 && this.aborts.length === 0) {
        // The engine holds nothing, so nothing more can arrive for requests still open here.
        for (const stream of [...this.streams.values()]) {
          this.streams.delete(stream.requestId);
          stream.fail(
            new RuntimeFailure(`the vLLM engine lost request ${stream.requestId}`, { code: 'vllm-engine' }),
          );
        }
      }
    }
  }

  private dispatch(event: StepEvent): void {
    const stream = this.streams.get(event.id);
    if (!stream) return; // cancelled while the engine was working on it
    if (event.promptTokens !== undefined) {
      stream.usage = {
        input: event.promptTokens,
        output: event.outputTokens ?? stream.usage.output,
        cached: event.cachedTokens ?? stream.usage.cached,
        ...(event.reasoningTokens === undefined ? {} : { reasoning: event.reasoningTokens }),
      };
    }
    if (event.finish === 'error') {
      this.streams.delete(event.id);
      stream.fail(requestError(event.id, event.error, event.errorKind));
      return;
    }
    if (event.finish === null) {
      stream.push({ requestId: event.id, textDelta: event.text });
      return;
    }
    this.streams.delete(event.id);
    stream.push({
      requestId: event.id,
      textDelta: event.text,
      finishReason: event.finish,
      usage: { ...stream.usage },
    });
  }
}
