import type { ChatHistoryItem, LlamaModel } from 'node-llama-cpp';
import { UsageError } from '../../core/errors.js';
import type { ChatFormat } from './chat-format.js';

/**
 * How long an answer may be: prompt + answer never exceed the context (llama-server's rule — it sets n_predict
 * to fit n_ctx and ends the answer with `length`). Without this cap node-llama-cpp "shifts" a full context (erases
 * its beginning) and generates on for as long as max tokens allows: `max_tokens: 1e12` held a slot for ever.
 */

/**
 * How much of the context node-llama-cpp frees when a prompt does not fit: its own default (a tenth of the
 * context), passed to it explicitly because outputBudget() counts on it.
 */
export function contextShiftSize(contextSize: number): number {
  return Math.max(1, Math.floor(contextSize / 10));
}

/**
 * The most tokens an answer may have after a prompt of `promptTokens` tokens.
 *
 * A prompt that fits is kept whole (chat: below context − 1, as LlamaChat keeps one cell free; completion: up to
 * context − shift, as LlamaCompletion always keeps that much free), and the answer gets the rest. A longer one is
 * first shortened by node-llama-cpp to at most context − shift tokens (chat: the oldest turns go; completion: the
 * front is cut), so the shift size is then the room left — a lower bound, as the shortened prompt may be shorter.
 */
export function outputBudget(contextSize: number, promptTokens: number, mode: 'chat' | 'completion'): number {
  const shift = contextShiftSize(contextSize);
  const keptWhole = mode === 'chat' ? promptTokens + 1 < contextSize : promptTokens <= contextSize - shift;
  return keptWhole ? contextSize - promptTokens : shift;
}

/**
 * A chat that outgrew its context loses its oldest turns, which is fine; but when the newest turn alone (with the
 * first system message, which node-llama-cpp always keeps) cannot fit, node-llama-cpp would cut the prompt itself
 * away and answer from an empty context. That request is refused instead, as llama-server refuses it.
 * Costs nothing for a prompt that fits: the newest turn is only rendered when the whole one does not.
 */
export function assertNewestTurnFits(
  format: ChatFormat,
  history: readonly ChatHistoryItem[],
  model: LlamaModel,
  promptTokens: number,
  contextSize: number,
): void {
  if (promptTokens + 1 < contextSize) return;
  const lastUser = history.findLastIndex((item) => item.type === 'user');
  const newest = [
    ...(history[0]?.type === 'system' && lastUser !== 0 ? [history[0]] : []),
    ...history.slice(Math.max(0, lastUser)),
  ];
  const tokens = format.wrapper
    .generateContextState({ chatHistory: newest })
    .contextText.tokenize(model.tokenizer).length;
  const room = contextSize - contextShiftSize(contextSize);
  if (tokens > room) {
    throw new UsageError(
      `the prompt needs ${tokens} tokens; the ${contextSize}-token context holds at most ${room} with room for an answer`,
      {
        code: 'context_length_exceeded',
        hint: 'Shorten the prompt or raise the context size (--ctx / ATOMR_INFER_GEMMA_MAX_LEN).',
      },
    );
  }
}
