import type { ChatWrapper, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { GEMMA_SAMPLING_DEFAULTS } from '../../core/catalog.js';
import { RuntimeFailure, UsageError } from '../../core/errors.js';
import type { ExecuteBatch, FinishReason, TokenUsage } from '../../core/model-runner.js';
import { redactSecrets } from '../../core/secrets.js';
import type { ChatFormat } from './chat-format.js';
import { assertNewestTurnFits, contextShiftSize, outputBudget } from './context-budget.js';
import type { NodeLlamaCpp } from './engine.js';
import { toChatHistory, toCompletionPrompt } from './history.js';

/** Sampling defaults when a request leaves a knob unset: the catalog's (Google's generation_config), no repetition penalty. */
export { GEMMA_SAMPLING_DEFAULTS };

export interface GenerationOutcome {
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The answer ended because prompt + answer filled the context (finish reason `length`, not max tokens). */
  contextFull: boolean;
}

export interface GenerationRequest {
  nlc: NodeLlamaCpp;
  model: LlamaModel;
  sequence: LlamaContextSequence;
  /** The chat format, or undefined for a plain completion. */
  format: ChatFormat | undefined;
  batch: ExecuteBatch;
  /** Constrains sampling to `batch.responseFormat` (grammar.ts); undefined: free text. */
  grammar: LlamaGrammar | undefined;
  signal: AbortSignal;
  onText: (text: string) => void;
  /** Thought text (a batch with `thinking`), apart from the answer. */
  onThought: (text: string) => void;
}

type StopReason =
  | 'eogToken'
  | 'stopGenerationTrigger'
  | 'customStopTrigger'
  | 'maxTokens'
  | 'abort'
  | 'functionCalls'
  | string;

function finishReasonOf(stopReason: StopReason, aborted: boolean): FinishReason {
  if (stopReason === 'abort' || aborted) return 'abort';
  if (stopReason === 'maxTokens') return 'length';
  return 'stop';
}

/** Prompt tokens already in the sequence's KV cache (llama.cpp re-evaluates at least the last one). */
function cachedPrefix(previous: readonly Token[], prompt: readonly Token[]): number {
  const limit = Math.min(previous.length, prompt.length - 1);
  let i = 0;
  while (i < limit && previous[i] === prompt[i]) i++;
  return Math.max(0, i);
}

function samplingOptions(request: GenerationRequest, maxTokens: number) {
  const { sampling } = request.batch;
  const penalties = sampling.presencePenalty !== undefined || sampling.frequencyPenalty !== undefined;
  const stop = (sampling.stop ?? []).filter((s) => s.length > 0);
  return {
    temperature: sampling.temperature ?? GEMMA_SAMPLING_DEFAULTS.temperature,
    topK: sampling.topK ?? GEMMA_SAMPLING_DEFAULTS.topK,
    topP: sampling.topP ?? GEMMA_SAMPLING_DEFAULTS.topP,
    ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
    maxTokens,
    repeatPenalty: penalties
      ? {
          penalty: 1,
          presencePenalty: sampling.presencePenalty ?? 0,
          frequencyPenalty: sampling.frequencyPenalty ?? 0,
        }
      : (false as const),
    ...(stop.length > 0 ? { customStopTriggers: stop } : {}),
  };
}

function translateError(error: unknown, contextSize: number): Error {
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  if (/context size is too small/i.test(message)) {
    return new UsageError(`the prompt does not fit the ${contextSize}-token context`, {
      hint: 'Shorten the prompt or raise the context size (--ctx / ATOMR_INFER_GEMMA_MAX_LEN).',
      cause: error,
    });
  }
  return new RuntimeFailure(`llama.cpp generation failed: ${message.split('\n')[0]}`, { cause: error });
}

/** The prompt as tokens, rendered the way LlamaChat / LlamaCompletion will render it (for usage counts). */
function promptTokens(
  request: GenerationRequest,
  history: ReturnType<typeof toChatHistory> | undefined,
  wrapper: ChatWrapper | undefined,
): Token[] {
  const { model, batch } = request;
  if (wrapper && history) {
    return wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
  }
  const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos] : [];
  return [...bos, ...model.tokenize(toCompletionPrompt(batch.messages), false, 'trimLeadingSpace')];
}

/** The chat wrapper for this batch: the thinking one when asked for; a format without one refuses (400). */
function chatWrapperFor(format: ChatFormat | undefined, batch: ExecuteBatch): ChatWrapper | undefined {
  if (!batch.thinking) return format?.wrapper;
  if (!format?.thinkingWrapper) {
    throw new UsageError(
      `thinking is not available for this model${format ? ` (chat format ${format.kind})` : ' in completion mode'}: only Gemma 4's chat format has it`,
      { code: 'unsupported_thinking' },
    );
  }
  return format.thinkingWrapper;
}

/**
 * Generates one answer on `sequence`, streaming text through `onText`; resolves once generation has stopped.
 * The answer is capped at what the context holds after the prompt (outputBudget), whatever max tokens says.
 * usage.input is the whole rendered prompt (a prompt longer than the context is cut from the front by
 * node-llama-cpp, and still counts in full); usage.cached is the prefix reused from the sequence's KV cache.
 */
export async function generate(request: GenerationRequest): Promise<GenerationOutcome> {
  const { nlc, sequence, format, batch, signal, onText, onThought } = request;
  const wrapper = chatWrapperFor(format, batch);
  const previous = sequence.contextTokens;
  const history = format ? toChatHistory(batch.messages) : undefined;
  const prompt = promptTokens(request, history, wrapper);
  const contextSize = sequence.context.contextSize;
  if (format && history) assertNewestTurnFits(format, history, request.model, prompt.length, contextSize);
  const budget = outputBudget(contextSize, prompt.length, format ? 'chat' : 'completion');
  const requested = batch.sampling.maxTokens;
  const maxTokens = requested === undefined ? budget : Math.min(requested, budget);
  /** The context, not the caller's max tokens, is what a `maxTokens` stop means. */
  const contextBound = requested === undefined || requested > budget;
  let output = 0;
  const usage = (): TokenUsage => ({ input: prompt.length, output, cached: cachedPrefix(previous, prompt) });
  const outcome = (stopReason: StopReason): GenerationOutcome => {
    const finishReason = finishReasonOf(stopReason, signal.aborted);
    return { finishReason, usage: usage(), contextFull: finishReason === 'length' && contextBound };
  };
  const shift = contextShiftSize(contextSize);
  const common = {
    ...samplingOptions(request, maxTokens),
    ...(request.grammar ? { grammar: request.grammar } : {}),
    signal,
    stopOnAbortSignal: true,
    onToken: (tokens: Token[]) => {
      output += tokens.length;
    },
  };
  try {
    if (format && history) {
      const chat = new nlc.LlamaChat({
        contextSequence: sequence,
        chatWrapper: wrapper ?? format.wrapper,
        autoDisposeSequence: false,
      });
      try {
        const result = await chat.generateResponse(history, {
          ...common,
          contextShift: { size: shift },
          // Segments are the thought; everything else is the answer (a thought never reaches onText).
          onResponseChunk: (chunk) => {
            if (chunk.type === undefined) onText(chunk.text);
            else if (chunk.segmentType === 'thought') onThought(chunk.text);
          },
        });
        return outcome(result.metadata.stopReason);
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    }
    const completion = new nlc.LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const result = await completion.generateCompletionWithMeta(toCompletionPrompt(batch.messages), {
        ...common,
        onTextChunk: onText,
        contextShiftSize: shift,
      });
      return outcome(result.metadata.stopReason);
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  } catch (error) {
    if (signal.aborted) return { finishReason: 'abort', usage: usage(), contextFull: false };
    throw translateError(error, contextSize);
  }
}
