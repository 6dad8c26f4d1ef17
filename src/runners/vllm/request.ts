import { UsageError } from '../../core/errors.js';
import { Gemma4OutputParser } from '../../core/gemma4-output.js';
import type { MediaKind } from '../../core/media.js';
import {
  assertMediaAccepted,
  messageText,
  type Message,
  offersTools,
  type ExecuteBatch,
  type SamplingParams,
  type TokenChunk,
  type ToolCall,
} from '../../core/model-runner.js';
import { forcedCall, parseToolArguments, toolCallId, type ForcedCall } from '../../core/tool-calls.js';
import type { AddCommand, DriverContent, DriverMedia } from './driver-protocol.js';

/**
 * One batch on vLLM, both ways: the driver command that carries it (messages, sampling, thinking, tools,
 * structured outputs), and the reader that turns the engine's raw text back into answer, thought and tool calls
 * (Gemma 4's markers, parsed here because the driver keeps them in the text when they are needed).
 */

/** `vllm.SamplingParams` keywords. `max_tokens: None` means "until end of turn or context", not vLLM's 16. */
function samplingKwargs(sampling: SamplingParams): Record<string, unknown> {
  const kwargs: Record<string, unknown> = { max_tokens: sampling.maxTokens ?? null };
  const map: [keyof SamplingParams, string][] = [
    ['temperature', 'temperature'],
    ['topP', 'top_p'],
    ['topK', 'top_k'],
    ['stop', 'stop'],
    ['presencePenalty', 'presence_penalty'],
    ['frequencyPenalty', 'frequency_penalty'],
    ['seed', 'seed'],
  ];
  for (const [ours, theirs] of map) {
    if (sampling[ours] !== undefined) kwargs[theirs] = sampling[ours];
  }
  return kwargs;
}

/**
 * A message's content for the chat template. With media: the processor's content parts (`{"type": "image"}`, which
 * Gemma 4's template renders as its `<|image|>` placeholder), and the bytes appended to `media` in prompt order,
 * base64 for the JSON bridge — the driver decodes them into what vLLM takes (PIL images, waveforms).
 */
function driverContent(message: Message, media: DriverMedia[]): DriverContent {
  if (typeof message.content === 'string' || message.content.every((part) => part.type === 'text')) {
    return messageText(message);
  }
  return message.content.map((part) => {
    if (part.type === 'text') return { type: 'text' as const, text: part.text };
    const data = Buffer.from(part.data).toString('base64');
    media.push(
      part.type === 'image'
        ? { kind: 'image', data, mediaType: part.mediaType }
        : { kind: 'audio', data, format: part.format },
    );
    return { type: part.type };
  });
}

/**
 * The driver's `add` command for `batch`; `forced` is its forced tool call (core/tool-calls.ts), if any; `accepts`
 * the media this engine was started for (describe()), which a completion prompt never has.
 */
export function addCommand(
  batch: ExecuteBatch,
  mode: 'chat' | 'completion',
  forced: ForcedCall | undefined,
  accepts: readonly MediaKind[] = [],
): AddCommand {
  if (batch.messages.length === 0) throw new UsageError('a request needs at least one message');
  const tools = offersTools(batch) ? (batch.tools ?? []) : [];
  const format = batch.responseFormat;
  if (format && tools.length > 0) {
    throw new UsageError('response_format cannot be combined with tools on the vLLM runner', {
      code: 'unsupported_tools',
    });
  }
  assertMediaAccepted(batch.messages, 'vLLM', mode === 'chat' ? accepts : []);
  const media: DriverMedia[] = [];
  // Calls and their results go to the chat template as OpenAI-shaped fields, which Gemma 4's template renders
  // as <|tool_call>… and <|tool_response>… (arguments as objects, as transformers templates expect).
  const messages = batch.messages.map((message) => ({
    role: message.role,
    content: driverContent(message, media),
    ...(message.toolCallId ? { tool_call_id: message.toolCallId } : {}),
    ...(message.toolCalls?.length
      ? {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: parseToolArguments(call.arguments) },
          })),
        }
      : {}),
  }));
  const sampling = samplingKwargs(batch.sampling);
  if (batch.thinking || tools.length > 0) {
    // Thoughts and calls are told apart by Gemma 4's markers, which vLLM drops from the text by default.
    sampling.skip_special_tokens = false;
  }
  // vLLM's structured outputs constrain decoding: to the forced call's schema, or to the response format.
  const constrained = forced?.format ?? format;
  return {
    id: batch.requestId,
    messages,
    mode,
    sampling,
    ...(batch.thinking ? { thinking: true } : {}),
    ...(media.length > 0 ? { media } : {}),
    ...(constrained
      ? {
          structured:
            constrained.type === 'json_object'
              ? { json_object: true as const }
              : { json: constrained.schema },
        }
      : {}),
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            type: 'function' as const,
            function: {
              name: tool.name,
              ...(tool.description ? { description: tool.description } : {}),
              parameters: tool.parameters,
            },
          })),
        }
      : {}),
  };
}

/**
 * Reads the engine's raw chunks of one answer when they carry more than text: with thinking or tools on, the
 * Gemma 4 parser splits thought and calls from the answer (calls are reported on the final chunk, finish reason
 * `tool_calls`); a forced call's text is the call itself (JSON under structured outputs), kept back and then
 * turned into the call — or, cut short, given back as the answer.
 */
export class AnswerReader {
  private readonly parser: Gemma4OutputParser | undefined;
  private readonly calls: ToolCall[] = [];
  private callText = '';

  /** Undefined when the raw text is the answer as it is. */
  static for(batch: ExecuteBatch, forced: ForcedCall | undefined): AnswerReader | undefined {
    const parses = batch.thinking === true || offersTools(batch);
    return parses || forced ? new AnswerReader(parses, forced) : undefined;
  }

  private constructor(
    parses: boolean,
    private readonly forced: ForcedCall | undefined,
  ) {
    this.parser = parses ? new Gemma4OutputParser() : undefined;
  }

  read(raw: TokenChunk): TokenChunk {
    const chunk = this.parser ? this.split(raw, this.parser) : raw;
    if (!this.forced) return chunk;
    this.callText += chunk.textDelta;
    const call = chunk.finishReason === 'stop' ? forcedCall(this.callText, this.forced.named) : undefined;
    if (call) return { ...chunk, textDelta: '', finishReason: 'tool_calls', toolCalls: [call] };
    return { ...chunk, textDelta: chunk.finishReason ? this.callText : '' };
  }

  private split(chunk: TokenChunk, parser: Gemma4OutputParser): TokenChunk {
    const events = [...parser.push(chunk.textDelta), ...(chunk.finishReason ? parser.end() : [])];
    let text = '';
    let thought = '';
    for (const event of events) {
      if (event.type === 'text') text += event.text;
      else if (event.type === 'thought') thought += event.text;
      else this.calls.push({ id: toolCallId(), name: event.name, arguments: event.arguments });
    }
    const out: TokenChunk = { ...chunk, textDelta: text, ...(thought ? { thoughtDelta: thought } : {}) };
    if (chunk.finishReason && this.calls.length > 0) {
      out.toolCalls = this.calls;
      if (chunk.finishReason === 'stop') out.finishReason = 'tool_calls';
    }
    return out;
  }
}
