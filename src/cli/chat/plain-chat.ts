import type { ContentPart, ModelRunner, RunnerDescription } from '../../core/model-runner.js';
import type { Conversation } from '../../chat/conversation.js';
import { contextFullNote, formatStats } from '../../chat/format-stats.js';
import { streamTurn, type TurnResult } from '../../chat/stream-turn.js';

export interface PlainChatIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The `--json` event lines: one `token` per delta, then one `done`. */
export type ChatJsonEvent =
  | { type: 'token'; text: string }
  /** `--think`: a piece of the thought, never mixed into `token` events. */
  | { type: 'thought'; text: string }
  | {
      type: 'done';
      model: string;
      runtime: string;
      finishReason: TurnResult['finishReason'];
      /** `finishReason` is `length` because prompt + answer filled the context, not because of --max-tokens. */
      contextFull: boolean;
      usage: TurnResult['usage'] | null;
      outputTokens: number;
      ttftMs: number | null;
      tokensPerSecond: number | null;
    };

function round(value: number | undefined, digits = 1): number | null {
  if (value === undefined) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * One prompt, one answer, written to stdout as it streams and nothing else on stdout (diagnostics go to
 * stderr). With `json`, stdout carries JSON lines instead of text.
 */
export async function runPlainChat(
  runner: ModelRunner,
  description: RunnerDescription,
  conversation: Conversation,
  prompt: string,
  options: { json: boolean; signal: AbortSignal; media?: readonly ContentPart[] },
  io: PlainChatIo,
): Promise<TurnResult> {
  const write = options.json
    ? (delta: string) => io.stdout.write(`${JSON.stringify({ type: 'token', text: delta })}\n`)
    : (delta: string) => io.stdout.write(delta);
  // The thought never reaches stdout's answer: JSON `thought` events, or stderr (dim on a terminal).
  const dim = io.stderr.isTTY === true;
  const writeThought = options.json
    ? (delta: string) => io.stdout.write(`${JSON.stringify({ type: 'thought', text: delta })}\n`)
    : (delta: string) => io.stderr.write(dim ? `\x1b[2m${delta}\x1b[22m` : delta);
  let thinking = false;
  const result = await streamTurn(runner, conversation.batchFor(prompt, options.media), {
    signal: options.signal,
    onDelta: (delta) => {
      if (thinking && !options.json) io.stderr.write('\n');
      thinking = false;
      write(delta);
    },
    onThought: (delta) => {
      thinking = true;
      writeThought(delta);
    },
  });
  if (thinking && !options.json) io.stderr.write('\n');

  if (options.json) {
    const done: ChatJsonEvent = {
      type: 'done',
      model: description.model,
      runtime: description.runtime,
      finishReason: result.finishReason,
      contextFull: result.contextFull,
      usage: result.usage ?? null,
      outputTokens: result.outputTokens,
      ttftMs: round(result.ttftMs),
      tokensPerSecond: round(result.tokensPerSecond),
    };
    io.stdout.write(`${JSON.stringify(done)}\n`);
  } else if (result.text !== '' && !result.text.endsWith('\n')) {
    io.stdout.write('\n');
  }

  if (result.finishReason === 'abort') io.stderr.write('atomr-infer: answer interrupted\n');
  else if (result.contextFull) io.stderr.write(`atomr-infer: ${contextFullNote(description.contextSize)}\n`);
  if (result.finishReason !== 'abort' && io.stderr.isTTY && !options.json)
    io.stderr.write(`${formatStats(result)}\n`);
  return result;
}
