import type { ChatWrapper, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { GEMMA_SAMPLING_DEFAULTS } from '../../core/catalog.js';
import { RuntimeFailure, UsageError } from '../../core/errors.js';
import type { ExecuteBatch, FinishReason, TokenUsage, ToolCall } from '../../core/model-runner.js';
import { redactSecrets } from '../../core/secrets.js';
import type { ChatFormat } from './chat-format.js';
import { assertNewestTurnFits, contextShiftSize, outputBudget } from './context-budget.js';
import type { NodeLlamaCpp } from './engine.js';
import { toChatHistory, toCompletionPrompt } from './history.js';
import { forcedCall, toolCallId } from '../../core/tool-calls.js';
import { withToolDeclarations, type ToolPlan } from './tools.js';

/** Sampling defaults when a request leaves a knob unset: the catalog's (Google's generation_config), no repetition penalty. */
export { GEMMA_SAMPLING_DEFAULTS };

export interface GenerationOutcome {
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The calls the answer made (finish reason `tool_calls`). */
  toolCalls?: ToolCall[];
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
  /** Constrains sampling to `batch.responseFormat`, or to a forced tool call (grammar.ts); undefined: free text. */
  grammar: LlamaGrammar | undefined;
  /** How the batch's tools are offered (tools.ts). */
  tools: ToolPlan;
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
  const { model, batch, tools } = request;
  if (wrapper && history) {
    // Tools offered to the model are declared in the prompt, so they count in it.
    const functions = tools.kind === 'auto' ? { availableFunctions: tools.functions } : {};
    return wrapper
      .generateContextState({ chatHistory: history, ...functions })
      .contextText.tokenize(model.tokenizer);
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
  const { tools } = request;
  if (tools.kind !== 'none' && !format) {
    throw new UsageError('tools need chat mode (a chat template): this request is a plain completion', {
      code: 'unsupported_tools',
    });
  }
  const rendered = format ? toChatHistory(batch.messages) : undefined;
  const history =
    rendered && tools.kind === 'forced' ? withToolDeclarations(rendered, tools.tools) : rendered;
  const prompt = promptTokens(request, history, wrapper);
  const contextSize = sequence.context.contextSize;
  if (format && history) assertNewestTurnFits(format, history, request.model, prompt.length, contextSize);
  const budget = outputBudget(contextSize, prompt.length, format ? 'chat' : 'completion');
  const requested = batch.sampling.maxTokens;
  const maxTokens = requested === undefined ? budget : Math.min(requested, budget);
  /** The context, not the caller's max tokens, is what a `maxTokens` stop means. */
  const contextBound = requested === undefined || requested > budget;
  let output = 0;
  let reasoning = 0;
  const usage = (): TokenUsage => ({
    input: prompt.length,
    output,
    cached: cachedPrefix(previous, prompt),
    ...(batch.thinking ? { reasoning } : {}),
  });
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
        // A forced call's text is the call itself (JSON under a grammar): kept back, then turned into the call.
        let callText = '';
        const answerText = tools.kind === 'forced' ? (text: string) => void (callText += text) : onText;
        // With thinking on, segments are the thought and everything else the answer (a thought never reaches
        // onText). Off, the plain text callback: node-llama-cpp's segment tracking costs ~10 % of decode speed on
        // small models (measured with bench/llamacpp.bench.mjs), which only a thought needs.
        const onResponseChunk = (chunk: {
          type: 'segment' | undefined;
          segmentType?: string;
          text: string;
          tokens: readonly Token[];
        }): void => {
          if (chunk.type === undefined) answerText(chunk.text);
          else if (chunk.segmentType === 'thought') {
            reasoning += chunk.tokens.length;
            onThought(chunk.text);
          }
        };
        const options = {
          ...common,
          contextShift: { size: shift },
          ...(batch.thinking ? { onResponseChunk } : { onTextChunk: answerText }),
        };
        if (tools.kind === 'auto') {
          // With functions the chat format owns sampling (no grammar): planTools refuses response_format here.
          const { grammar: _noGrammar, ...free } = options;
          const result = await chat.generateResponse(history, { ...free, functions: tools.functions });
          const calls = (result.functionCalls ?? []).map((call) => ({
            id: toolCallId(),
            name: call.functionName,
            arguments: JSON.stringify(call.params ?? {}),
          }));
          const done = outcome(result.metadata.stopReason);
          return calls.length > 0 && done.finishReason !== 'abort'
            ? { ...done, finishReason: 'tool_calls', toolCalls: calls }
            : done;
        }
        const result = await chat.generateResponse(history, options);
        const done = outcome(result.metadata.stopReason);
        if (tools.kind !== 'forced') return done;
        const call = done.finishReason === 'abort' ? undefined : forcedCall(callText, tools.named);
        if (call) return { ...done, finishReason: 'tool_calls', toolCalls: [call] };
        // Cut short (max tokens, the context): what was written is the answer, with the finish reason that says so.
        onText(callText);
        return done;
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
