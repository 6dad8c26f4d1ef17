import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { getVariant, isVariantId } from '../../core/catalog.js';
import { InterruptedError, ModelError, RuntimeFailure, runnerDisposed } from '../../core/errors.js';
import type {
  ExecuteBatch,
  ExecuteOptions,
  ModelRunner,
  RunnerDescription,
  RunnerSpec,
  SessionRebuildCause,
  TokenChunk,
  TransportKind,
  WeightSource,
} from '../../core/model-runner.js';
import { redactSecrets } from '../../core/secrets.js';
import type { DecodeBatcher } from './batching.js';
import { Channel } from './channel.js';
import type { SequencePool } from './sequence-pool.js';
import { planTools } from './tools.js';
import { GrammarCache } from './grammar.js';
import { pickChatFormat, type ChatFormat } from './chat-format.js';
import { getEngine, loadNodeLlamaCpp, logLinesSince, logMark, type NodeLlamaCpp } from './engine.js';
import { generate, type GenerationOutcome } from './generate.js';
import { preflightGguf, type GgufFacts } from './gguf/preflight.js';
import { createContextSlots, type ContextSlots } from './context-slots.js';
import type { LlamaCppSettings } from './settings.js';
import { defaultThreadCount, usableCpuCount } from '../../core/cpu-threads.js';
import { resolveGgufWeights, type ResolvedWeights } from './weights.js';

const GPU_LABELS: Record<string, string> = { cuda: 'CUDA', metal: 'Metal', vulkan: 'Vulkan' };

/** A loaded model with its context: replaced as a whole by loadWeights, the context alone by rebuildSession. */
interface Loaded {
  weights: ResolvedWeights;
  facts: GgufFacts;
  model: LlamaModel;
  format: ChatFormat;
  instructionTuned: boolean;
  context: LlamaContext;
  pool: SequencePool<LlamaContextSequence>;
  batcher: DecodeBatcher | undefined;
  device: string;
  transport: TransportKind;
}

interface ActiveRequest {
  controller: AbortController;
  settled: Promise<unknown>;
}

function pluralThreads(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

/** The llama.cpp runner: one GGUF model, one context with `sequences` slots, streamed generation. */
export class LlamaCppRunner implements ModelRunner {
  readonly runtimeKind = 'llama-cpp' as const;
  readonly gilPinned = false;
  private loaded: Loaded | undefined;
  private readonly active = new Set<ActiveRequest>();
  /**
   * loadWeights, rebuildSession and dispose change what is loaded, so they run one at a time, in call order
   * (see serialized). `lifecycleTail` settles when the last one queued has; execute() waits while any is queued.
   */
  private lifecycleTail: Promise<void> = Promise.resolve();
  private lifecyclePending = 0;
  private disposing: Promise<void> | undefined;
  private readonly threads: number;
  private lastTransport: TransportKind;
  private readonly grammars: GrammarCache;

  private constructor(
    private readonly nlc: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly spec: RunnerSpec,
    private readonly settings: LlamaCppSettings,
  ) {
    // A stored setting above the usable CPUs (a deployment written on a bigger machine) is clamped: oversubscribed
    // ggml workers stall each other at every barrier (see threads.ts). `--threads` flags are refused earlier.
    this.threads = Math.min(settings.threads ?? defaultThreadCount(), usableCpuCount());
    this.lastTransport = { kind: 'local-cpu', threads: this.threads };
    this.grammars = new GrammarCache(llama);
    // node-llama-cpp caps a context's threads at llama.maxThreads (4 on a CPU build): an explicit wish wins.
    if (llama.maxThreads !== 0 && this.threads > llama.maxThreads) llama.maxThreads = this.threads;
  }

  static async create(spec: RunnerSpec, settings: LlamaCppSettings): Promise<LlamaCppRunner> {
    // Resolve and validate the file before paying for node-llama-cpp: a bad file fails in milliseconds.
    const weights = resolveGgufWeights(spec.model, spec.weights);
    const facts = preflightGguf(weights.path);
    const nlc = await loadNodeLlamaCpp();
    const llama = await getEngine(settings.gpu ?? 'auto');
    const runner = new LlamaCppRunner(nlc, llama, spec, settings);
    runner.loaded = await runner.load(weights, facts);
    return runner;
  }

  /** Still answers after dispose() (the last model's transport): a property read should never throw. */
  get transportKind(): TransportKind {
    return this.lastTransport;
  }

  private current(): Loaded {
    this.refuseIfDisposed();
    if (!this.loaded) throw new RuntimeFailure('the llama.cpp runner has no model loaded');
    return this.loaded;
  }

  private refuseIfDisposed(): void {
    if (this.disposing) throw runnerDisposed('llama.cpp');
  }

  private instructionTuned(facts: GgufFacts): boolean {
    if (this.settings.instructionTuned !== undefined) return this.settings.instructionTuned;
    if (isVariantId(this.spec.model)) return getVariant(this.spec.model).instructionTuned;
    return facts.chatTemplate !== undefined;
  }

  private async load(weights: ResolvedWeights, facts: GgufFacts): Promise<Loaded> {
    const mark = logMark();
    let model: LlamaModel;
    try {
      model = await this.llama.loadModel({
        modelPath: weights.path,
        gpuLayers: this.llama.gpu === false ? 0 : (this.settings.gpuLayers ?? 'auto'),
      });
    } catch (error) {
      const detail = logLinesSince(mark).at(-1) ?? (error instanceof Error ? error.message : String(error));
      throw new ModelError(
        `llama.cpp could not load ${weights.label}: ${redactSecrets(detail).split('\n')[0]}`,
        {
          code: 'model-load-failed',
          hint: 'The file may be damaged or need a newer llama.cpp; `atomr-infer pull --verify --model <id> --runtime llama-cpp` checks it and downloads it again if damaged.',
          cause: error,
        },
      );
    }
    try {
      const { context, pool, batcher } = await this.createContext(model, facts);
      const gpuLayers = model.gpuLayers;
      const onGpu = this.llama.gpu !== false && gpuLayers > 0;
      const gpuName = onGpu ? ((await this.llama.getGpuDeviceNames())[0] ?? '') : '';
      const gpuLabel = GPU_LABELS[String(this.llama.gpu)] ?? String(this.llama.gpu);
      const device = onGpu
        ? `${gpuLabel}${gpuName ? ` · ${gpuName}` : ''} · ${gpuLayers}/${facts.blockCount + 1} layers`
        : `CPU · ${pluralThreads(this.threads)}`;
      const transport: TransportKind = onGpu
        ? { kind: 'local-gpu', device: gpuName || gpuLabel }
        : { kind: 'local-cpu', threads: this.threads };
      this.lastTransport = transport;
      return {
        weights,
        facts,
        model,
        format: pickChatFormat(this.nlc, facts, model.tokenizer),
        instructionTuned: this.instructionTuned(facts),
        context,
        pool,
        batcher,
        device,
        transport,
      };
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  private createContext(model: LlamaModel, facts: GgufFacts): Promise<ContextSlots> {
    return createContextSlots(this.nlc, model, facts, this.settings, this.threads);
  }

  async *execute(batch: ExecuteBatch, options: ExecuteOptions = {}): AsyncGenerator<TokenChunk> {
    while (this.lifecyclePending > 0) await this.lifecycleTail;
    const loaded = this.current();
    const { requestId } = batch;
    const abortChunk = (): TokenChunk => ({
      requestId,
      textDelta: '',
      finishReason: 'abort',
      usage: { input: 0, output: 0, cached: 0 },
    });
    const external = options.signal;
    if (external?.aborted) {
      yield abortChunk();
      return;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(external?.reason);
    external?.addEventListener('abort', onAbort, { once: true });
    // Registered before waiting for a slot, so a rebuild/dispose that starts meanwhile aborts this request too
    // and waits for it (`settled` = native generation has stopped, whatever the consumer does).
    let markSettled!: () => void;
    const request: ActiveRequest = {
      controller,
      settled: new Promise<void>((resolve) => (markSettled = resolve)),
    };
    this.active.add(request);
    let sequence: LlamaContextSequence | undefined;
    let run: Promise<GenerationOutcome> | undefined;
    let finished = false;
    try {
      // Before a slot is taken: bad tools or a schema that cannot be compiled are the request's error, at once.
      const tools = planTools(batch);
      const grammar =
        tools.kind === 'forced'
          ? await this.grammars.get(tools.format, 'tools.function.parameters (the forced call)')
          : batch.responseFormat
            ? await this.grammars.get(batch.responseFormat)
            : undefined;
      try {
        sequence = await loaded.pool.acquire(controller.signal);
      } catch (error) {
        if (error instanceof InterruptedError) {
          yield abortChunk();
          return;
        }
        throw error;
      }
      // Answer text as strings (the hot path, one per token); thought text wrapped, so the two never mix.
      const channel = new Channel<string | { thought: string }>();
      const mode = batch.mode ?? (loaded.instructionTuned ? 'chat' : 'completion');
      // Counted from here: the batch strategy waits for every generating sequence's next token, and the decode
      // loop hands the context lock over between batches until this request has its first token (batching.ts).
      const batcher = loaded.batcher;
      batcher?.generationStarted();
      const admitted = batcher?.admit();
      const push = admitted
        ? (piece: string | { thought: string }) => {
            admitted();
            channel.push(piece);
          }
        : (piece: string | { thought: string }) => channel.push(piece);
      run = generate({
        nlc: this.nlc,
        model: loaded.model,
        sequence,
        format: mode === 'chat' ? loaded.format : undefined,
        batch,
        grammar,
        tools,
        signal: controller.signal,
        onText: push,
        onThought: (thought) => push({ thought }),
      }).finally(() => {
        admitted?.();
        batcher?.generationEnded();
        channel.close();
      });
      run.then(markSettled, markSettled);
      for (;;) {
        const next = await channel.next();
        if (next.done) break;
        const burst = channel.drain();
        if (burst.length === 0 && typeof next.value === 'string') {
          // The hot path: one piece of answer per token, no allocation beyond the chunk.
          yield { requestId, textDelta: next.value };
          continue;
        }
        let text = '';
        let thought = '';
        for (const piece of [next.value, ...burst]) {
          if (typeof piece === 'string') text += piece;
          else thought += piece.thought;
        }
        yield { requestId, textDelta: text, ...(thought ? { thoughtDelta: thought } : {}) };
      }
      const outcome = await run;
      finished = true;
      yield {
        requestId,
        textDelta: '',
        finishReason: outcome.finishReason,
        usage: outcome.usage,
        ...(outcome.toolCalls ? { toolCalls: outcome.toolCalls } : {}),
        ...(outcome.contextFull ? { contextFull: true } : {}),
      };
    } finally {
      // The consumer left early (or generation failed): stop decoding before the slot is reused.
      if (!finished) controller.abort();
      if (run) await run.catch(() => undefined);
      markSettled();
      this.active.delete(request);
      external?.removeEventListener('abort', onAbort);
      if (sequence) loaded.pool.release(sequence);
    }
  }

  /** Aborts every running request and waits until their native generation has stopped. */
  private async stopAll(reason: string): Promise<void> {
    const error = new InterruptedError(reason);
    this.loaded?.pool.rejectWaiters(error);
    const running = [...this.active];
    for (const request of running) request.controller.abort(error);
    await Promise.all(running.map((request) => request.settled));
  }

  /**
   * Runs `work` after every lifecycle call made before it has settled (whatever its outcome), so each one reads
   * `loaded` only when its turn comes. Reading it at call time is the race this prevents: a rebuild asked for
   * during a swap would rebuild the model the swap had just freed, and put it back in place of the new one.
   */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    this.lifecyclePending++;
    const result = this.lifecycleTail.then(work);
    const settled = (): void => {
      this.lifecyclePending--;
    };
    this.lifecycleTail = result.then(settled, settled);
    return result;
  }

  async rebuildSession(cause: SessionRebuildCause): Promise<void> {
    this.refuseIfDisposed();
    await this.serialized(async () => {
      // Refused here too when dispose() was asked for while this call waited its turn.
      const loaded = this.current();
      await this.stopAll(`session rebuilt (${cause})`);
      await loaded.context.dispose();
      try {
        const slots = await this.createContext(loaded.model, loaded.facts);
        this.loaded = { ...loaded, ...slots };
      } catch (error) {
        // The old context is gone: keep no half-loaded model around (loadWeights can load one again).
        this.loaded = undefined;
        await loaded.model.dispose();
        throw error;
      }
    });
  }

  async loadWeights(source: WeightSource): Promise<void> {
    this.refuseIfDisposed();
    // A missing or broken file is refused before the loaded model is touched.
    const weights = resolveGgufWeights(this.spec.model, source);
    const facts = preflightGguf(weights.path);
    await this.serialized(async () => {
      this.refuseIfDisposed();
      await this.stopAll('model replaced');
      const old = this.loaded;
      this.loaded = undefined;
      if (old) {
        await old.context.dispose();
        await old.model.dispose();
      }
      this.loaded = await this.load(weights, facts);
    });
  }

  /**
   * How `serve`'s sequences were batched so far (batching.ts): batches built, empty turns spent waiting for a
   * lagging sequence, batches left in arrival order. Undefined with one sequence. For the benchmarks and tests.
   */
  get batchingStats(): (Readonly<DecodeBatcher['stats']> & { yieldsContextLock: boolean }) | undefined {
    const batcher = this.loaded?.batcher;
    return batcher ? { ...batcher.stats, yieldsContextLock: batcher.yieldsContextLock } : undefined;
  }

  rateLimits(): undefined {
    return undefined;
  }

  estimateCostUsd(): number {
    return 0;
  }

  describe(): RunnerDescription {
    const loaded = this.current();
    return {
      model: this.spec.model,
      runtime: 'llama-cpp',
      device: loaded.device,
      mode: loaded.instructionTuned ? 'chat' : 'completion',
      contextSize: loaded.context.contextSize,
    };
  }

  dispose(): Promise<void> {
    // Queued behind a swap or rebuild under way (it finishes, then its model is freed here); calls queued
    // after that one but not yet started are refused as disposed.
    this.disposing ??= this.serialized(async () => {
      await this.stopAll('runner disposed');
      const loaded = this.loaded;
      this.loaded = undefined;
      if (loaded) {
        await loaded.context.dispose();
        await loaded.model.dispose();
      }
    });
    return this.disposing;
  }
}
