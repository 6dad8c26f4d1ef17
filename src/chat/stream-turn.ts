import type { ExecuteBatch, FinishReason, ModelRunner, TokenUsage } from '../core/model-runner.js';

/** What one answer cost, measured the same way for `--prompt`, `--json`, the TUI and the benchmark. */
export interface TurnStats {
  /** From the execute() call to the first non-empty text delta; `undefined` when nothing was generated. */
  ttftMs: number | undefined;
  /** Decode rate after the first token: (tokens − 1) / (last − first); `undefined` below 2 tokens. */
  tokensPerSecond: number | undefined;
  /** `usage.output` when the runner reports it, else the number of non-empty deltas. */
  outputTokens: number;
  usage: TokenUsage | undefined;
  finishReason: FinishReason;
  /** The answer stopped because prompt + answer filled the context (a `length` finish that max tokens did not cause). */
  contextFull: boolean;
  durationMs: number;
}

export interface TurnResult extends TurnStats {
  text: string;
  /** The thought (a turn with thinking on), apart from the answer; '' when there was none. */
  thought: string;
  /** How long the model thought: its first thought text to its first answer text (or the end). */
  thoughtMs: number | undefined;
}

export interface StreamTurnOptions {
  signal?: AbortSignal;
  /** Called synchronously for every non-empty delta; keep it cheap (it runs between decoded tokens). */
  onDelta?: (delta: string) => void;
  /** Called for every piece of thought text (thinking on); kept apart from the answer. */
  onThought?: (delta: string) => void;
  now?: () => number;
  /** A meter the caller reads while the answer streams (the TUI's live tok/s); one is made otherwise. */
  meter?: TurnMeter;
}

/** A live meter of a streaming answer: feed it deltas, read TTFT and tok/s at any time. */
export class TurnMeter {
  readonly startedAt: number;
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  deltas = 0;

  constructor(private readonly now: () => number = performance.now.bind(performance)) {
    this.startedAt = now();
  }

  /** Records one non-empty delta. */
  tick(): void {
    const at = this.now();
    this.firstTokenAt ??= at;
    this.lastTokenAt = at;
    this.deltas++;
  }

  get ttftMs(): number | undefined {
    return this.firstTokenAt === undefined ? undefined : this.firstTokenAt - this.startedAt;
  }

  /** Decode rate so far (or final, given the final token count). */
  tokensPerSecond(tokens = this.deltas, until = this.lastTokenAt): number | undefined {
    if (this.firstTokenAt === undefined || until === undefined || tokens < 2) return undefined;
    const seconds = (until - this.firstTokenAt) / 1000;
    return seconds > 0 ? (tokens - 1) / seconds : undefined;
  }

  finish(finishReason: FinishReason, usage: TokenUsage | undefined, contextFull = false): TurnStats {
    const end = this.now();
    const outputTokens = usage?.output ?? this.deltas;
    return {
      ttftMs: this.ttftMs,
      tokensPerSecond: this.tokensPerSecond(outputTokens, this.lastTokenAt),
      outputTokens,
      usage,
      finishReason,
      contextFull: finishReason === 'length' && contextFull,
      durationMs: end - this.startedAt,
    };
  }
}

/**
 * Runs one answer to completion (or abort) and measures it. An aborted signal ends the answer with
 * finishReason `abort` and keeps the partial text; runner errors propagate to the caller.
 */
export async function streamTurn(
  runner: ModelRunner,
  batch: ExecuteBatch,
  options: StreamTurnOptions = {},
): Promise<TurnResult> {
  const meter = options.meter ?? new TurnMeter(options.now);
  const now = options.now ?? performance.now.bind(performance);
  let text = '';
  let thought = '';
  let thoughtStart: number | undefined;
  let thoughtEnd: number | undefined;
  let usage: TokenUsage | undefined;
  let finishReason: FinishReason | undefined;
  let contextFull = false;
  const stream = runner.execute(batch, options.signal ? { signal: options.signal } : {});
  for await (const chunk of stream) {
    if (chunk.thoughtDelta) {
      thoughtStart ??= now();
      thought += chunk.thoughtDelta;
      options.onThought?.(chunk.thoughtDelta);
    }
    if (chunk.textDelta) {
      if (thoughtStart !== undefined) thoughtEnd ??= now();
      meter.tick();
      text += chunk.textDelta;
      options.onDelta?.(chunk.textDelta);
    }
    if (chunk.usage) usage = chunk.usage;
    if (chunk.finishReason) finishReason = chunk.finishReason;
    if (chunk.contextFull) contextFull = true;
  }
  // A runner that ends without a final chunk after an abort still counts as aborted.
  finishReason ??= options.signal?.aborted ? 'abort' : 'stop';
  if (thoughtStart !== undefined) thoughtEnd ??= now();
  const thoughtMs = thoughtStart === undefined ? undefined : (thoughtEnd ?? thoughtStart) - thoughtStart;
  return { text, thought, thoughtMs, ...meter.finish(finishReason, usage, contextFull) };
}
