import type {
  ExecuteBatch,
  ExecuteOptions,
  ModelRunner,
  RunnerDescription,
  TokenChunk,
} from '../../../src/core/model-runner.js';

/**
 * A test double of a runner for UI tests only: it yields scripted deltas (optionally paced), honours the
 * abort signal like a real runner (ends with finishReason `abort`), and records every batch it was given.
 * End-to-end tests use the real llama.cpp runner on a generated GGUF instead.
 */
export interface ScriptedRunnerOptions {
  /** The deltas of each successive answer (the last one repeats). A `{ thought }` delta is thought text. */
  answers: (string | { thought: string })[][];
  /** Delay before each delta, in ms (0: yield on the next microtask). */
  delayMs?: number;
  /** Resolved before the first delta: lets a test hold the answer in "waiting for the first token". */
  gate?: Promise<void>;
  description?: Partial<RunnerDescription>;
  /** How an answer that was not aborted ends: `stop` (default), `length`, or `length` with a full context. */
  finish?: 'stop' | 'length' | 'context-full';
  /** Throws this after the given number of deltas. */
  failAfter?: { deltas: number; error: Error };
}

export interface ScriptedRunner extends ModelRunner {
  batches: ExecuteBatch[];
  disposed: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createScriptedRunner(options: ScriptedRunnerOptions): ScriptedRunner {
  const description: RunnerDescription = {
    model: 'tiny-test',
    runtime: 'llama-cpp',
    device: 'CPU · 1 thread',
    mode: 'chat',
    contextSize: 4096,
    ...options.description,
  };
  const runner: ScriptedRunner = {
    batches: [],
    disposed: false,
    runtimeKind: description.runtime,
    transportKind: { kind: 'local-cpu', threads: 1 },
    gilPinned: false,
    async *execute(batch: ExecuteBatch, execOptions: ExecuteOptions = {}): AsyncIterable<TokenChunk> {
      const index = runner.batches.length;
      runner.batches.push(batch);
      const deltas = options.answers[Math.min(index, options.answers.length - 1)] ?? [];
      const signal = execOptions.signal;
      if (options.gate) await options.gate;
      let output = 0;
      for (const delta of deltas) {
        if (options.delayMs) await sleep(options.delayMs);
        else await Promise.resolve();
        if (signal?.aborted) break;
        if (options.failAfter && output === options.failAfter.deltas) throw options.failAfter.error;
        output++;
        yield typeof delta === 'string'
          ? { requestId: batch.requestId, textDelta: delta }
          : { requestId: batch.requestId, textDelta: '', thoughtDelta: delta.thought };
      }
      const aborted = signal?.aborted === true;
      const finish = options.finish ?? 'stop';
      yield {
        requestId: batch.requestId,
        textDelta: '',
        usage: { input: 5, output, cached: 0 },
        finishReason: aborted ? 'abort' : finish === 'stop' ? 'stop' : 'length',
        ...(!aborted && finish === 'context-full' ? { contextFull: true } : {}),
      };
    },
    async loadWeights() {},
    async rebuildSession() {},
    rateLimits: () => undefined,
    estimateCostUsd: () => 0,
    describe: () => description,
    async dispose() {
      runner.disposed = true;
    },
  };
  return runner;
}
