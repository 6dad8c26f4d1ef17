import type { ExecuteBatch, ModelRunner } from '../core/model-runner.js';

/**
 * Load generation against any ModelRunner: `concurrency` workers keep that many answers in flight until
 * `requests` have finished, timing each answer's first token and its decode rate.
 */

export interface RequestTiming {
  /** Start → first non-empty text. */
  ttftMs: number;
  totalMs: number;
  outputTokens: number;
  /** Tokens after the first, over the time after the first: the decode rate a reader sees. */
  decodeTokPerSec: number | undefined;
}

export interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  wallMs: number;
  outputTokens: number;
  /** All output tokens of the level over its wall time: what the machine delivers. */
  aggregateTokPerSec: number;
  ttftMs: { p50: number; p95: number };
  decodeTokPerSec: { p50: number; mean: number };
}

export interface MeasureOptions {
  concurrency: number;
  requests: number;
  maxTokens: number;
  prompt: string;
  mode: 'chat' | 'completion';
  model: string;
  /** Called after each finished request: (done, total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function measureLevel(runner: ModelRunner, options: MeasureOptions): Promise<LevelResult> {
  const timings: RequestTiming[] = [];
  const errors: unknown[] = [];
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < options.requests && !options.signal?.aborted) {
      const index = next++;
      try {
        timings.push(await timeOne(runner, batchFor(options, index), options.signal));
      } catch (error) {
        errors.push(error);
      }
      done++;
      options.onProgress?.(done, options.requests);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker));
  const wallMs = performance.now() - started;
  const outputTokens = timings.reduce((sum, t) => sum + t.outputTokens, 0);
  const decodeRates = timings
    .map((t) => t.decodeTokPerSec)
    .filter((rate): rate is number => rate !== undefined);
  const firstError = errors[0];
  return {
    concurrency: options.concurrency,
    requests: timings.length + errors.length,
    errors: errors.length,
    firstError:
      firstError === undefined ? null : firstError instanceof Error ? firstError.message : String(firstError),
    wallMs: round(wallMs),
    outputTokens,
    aggregateTokPerSec: round(wallMs > 0 ? (outputTokens * 1000) / wallMs : 0),
    ttftMs: {
      p50: round(
        percentile(
          timings.map((t) => t.ttftMs),
          50,
        ),
      ),
      p95: round(
        percentile(
          timings.map((t) => t.ttftMs),
          95,
        ),
      ),
    },
    decodeTokPerSec: {
      p50: round(percentile(decodeRates, 50)),
      mean: round(decodeRates.length ? decodeRates.reduce((a, b) => a + b, 0) / decodeRates.length : 0),
    },
  };
}

function batchFor(options: MeasureOptions, index: number): ExecuteBatch {
  return {
    requestId: `bench-${options.concurrency}-${index}`,
    model: options.model,
    messages: [{ role: 'user', content: options.prompt }],
    // A different seed per request keeps answers from being identical (and cacheable) across streams.
    sampling: { maxTokens: options.maxTokens, seed: index + 1 },
    stream: true,
    mode: options.mode,
  };
}

export async function timeOne(
  runner: ModelRunner,
  batch: ExecuteBatch,
  signal?: AbortSignal,
): Promise<RequestTiming> {
  const start = performance.now();
  let first: number | undefined;
  let pieces = 0;
  let reported: number | undefined;
  let finish: string | undefined;
  for await (const chunk of runner.execute(batch, signal ? { signal } : {})) {
    if (chunk.textDelta !== '') {
      first ??= performance.now();
      pieces++;
    }
    if (chunk.usage) reported = chunk.usage.output;
    if (chunk.finishReason) finish = chunk.finishReason;
  }
  const end = performance.now();
  if (finish === 'error') throw new Error('the runner ended the answer with an error');
  const outputTokens = reported ?? pieces;
  const decodeMs = first === undefined ? 0 : end - first;
  return {
    ttftMs: (first ?? end) - start,
    totalMs: end - start,
    outputTokens,
    decodeTokPerSec: outputTokens > 1 && decodeMs > 0 ? ((outputTokens - 1) * 1000) / decodeMs : undefined,
  };
}

/** Nearest-rank percentile; 0 for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
