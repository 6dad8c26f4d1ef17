import { RuntimeFailure } from '../../core/errors.js';
import {
  assertMediaAccepted,
  messageText,
  type ContentPart,
  type ExecuteBatch,
  type FinishReason,
  type Message,
  type TokenUsage,
  type ToolCall,
} from '../../core/model-runner.js';
import { redactSecrets } from '../../core/secrets.js';

/**
 * Our seam's types ⇄ the OpenAI wire format, for the remote runner: request bodies for `/chat/completions`
 * and `/completions`, and the streamed chunks back.
 */

type WirePart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'input_audio'; input_audio: { data: string; format: string } };

type WireContent = string | WirePart[];

/** Our parts in OpenAI's shapes: an image as a data URL, audio as base64 `input_audio` (what the endpoint decodes). */
function toWirePart(part: ContentPart): WirePart {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return {
        type: 'image_url',
        image_url: { url: `data:${part.mediaType};base64,${Buffer.from(part.data).toString('base64')}` },
      };
    case 'audio':
      return {
        type: 'input_audio',
        input_audio: { data: Buffer.from(part.data).toString('base64'), format: part.format },
      };
  }
}

interface WireMessage {
  role: Message['role'];
  content: WireContent;
  tool_call_id?: string;
}

function toWireMessage(message: Message): WireMessage {
  const content: WireContent =
    typeof message.content === 'string' ? message.content : message.content.map(toWirePart);
  const wire: WireMessage = { role: message.role, content };
  if (message.toolCallId !== undefined) wire.tool_call_id = message.toolCallId;
  return wire;
}

/** Completion mode sends the messages' text as one prompt (a base model has no roles). */
export function completionPrompt(messages: readonly Message[]): string {
  return messages.map(messageText).join('\n\n');
}

/** The request body; only parameters the caller set are sent (OpenAI rejects unknown ones such as top_k). */
export function requestBody(
  batch: ExecuteBatch,
  model: string,
  mode: 'chat' | 'completion',
): Record<string, unknown> {
  const { sampling } = batch;
  const body: Record<string, unknown> = {
    model,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (mode === 'chat') body.messages = batch.messages.map(toWireMessage);
  else {
    // A plain prompt has nowhere to put an image or a clip: refused, never dropped.
    assertMediaAccepted(batch.messages, 'remote (completion mode)');
    body.prompt = completionPrompt(batch.messages);
  }
  if (sampling.maxTokens !== undefined) body.max_tokens = sampling.maxTokens;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (sampling.topK !== undefined) body.top_k = sampling.topK;
  if (sampling.stop !== undefined && sampling.stop.length > 0) body.stop = sampling.stop;
  if (sampling.presencePenalty !== undefined) body.presence_penalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) body.frequency_penalty = sampling.frequencyPenalty;
  if (sampling.seed !== undefined) body.seed = sampling.seed;
  // Tools as OpenAI spells them; the endpoint declares them and streams the calls back (ToolCallAssembler).
  if (mode === 'chat' && batch.tools && batch.tools.length > 0) {
    body.tools = batch.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.parameters,
      },
    }));
    const choice = batch.toolChoice ?? 'auto';
    body.tool_choice =
      typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  }
  // Thinking as vLLM and llama-server take it for Gemma 4's template; they answer with reasoning_content.
  if (batch.thinking && mode === 'chat') body.chat_template_kwargs = { enable_thinking: true };
  // Passed through as OpenAI spells it: the endpoint constrains decoding (or refuses, and says why).
  const format = batch.responseFormat;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name ?? 'response', schema: format.schema, strict: true },
    };
  }
  return body;
}

/** A rough token count (≈4 characters a token) for budgets and cost estimates before the server counts. */
export function estimatePromptTokens(messages: readonly Message[]): number {
  return messages.reduce((sum, message) => sum + 4 + Math.ceil(messageText(message).length / 4), 0);
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

interface WireChunk {
  choices?: {
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: WireToolCallDelta[] | null;
    };
    text?: string | null;
    finish_reason?: string | null;
  }[];
  usage?: WireUsage | null;
  error?: { message?: string } | string;
}

/** A piece of a streamed tool call: the first carries `id` and the name, later ones more of the arguments. */
export interface WireToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

export interface DecodedChunk {
  /** Pieces of tool calls, by index (see ToolCallAssembler). */
  toolCalls: WireToolCallDelta[];
  text: string;
  /** `delta.reasoning_content` (vLLM, llama-server) or `delta.reasoning` (some gateways): the thought. */
  thought: string;
  finishReason: FinishReason | undefined;
  usage: TokenUsage | undefined;
}

/** One SSE `data:` payload → text delta, finish reason and usage (whichever it carries). */
export function decodeChunk(data: string, mode: 'chat' | 'completion'): DecodedChunk {
  let chunk: WireChunk;
  try {
    chunk = JSON.parse(data) as WireChunk;
    // `data: null`, `data: 42`, `data: []`: JSON, but not a chunk.
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) throw new Error('not an object');
  } catch {
    throw new RuntimeFailure(
      `the endpoint sent a malformed stream event: ${redactSecrets(data.slice(0, 120))}`,
      {
        code: 'remote-protocol',
      },
    );
  }
  if (chunk.error !== undefined) {
    const message = typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'unknown error');
    throw new RuntimeFailure(`the endpoint failed mid-answer: ${redactSecrets(message)}`, {
      code: 'remote-stream-error',
    });
  }
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  const piece: unknown = mode === 'chat' ? choice?.delta?.content : choice?.text;
  const text = typeof piece === 'string' ? piece : '';
  const reasoning: unknown = choice?.delta?.reasoning_content ?? choice?.delta?.reasoning;
  const thought = mode === 'chat' && typeof reasoning === 'string' ? reasoning : '';
  const reasoningTokens = chunk.usage?.completion_tokens_details?.reasoning_tokens;
  const usage = chunk.usage
    ? {
        input: chunk.usage.prompt_tokens ?? 0,
        output: chunk.usage.completion_tokens ?? 0,
        cached: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
        ...(typeof reasoningTokens === 'number' ? { reasoning: reasoningTokens } : {}),
      }
    : undefined;
  const toolCalls =
    mode === 'chat' && Array.isArray(choice?.delta?.tool_calls) ? choice.delta.tool_calls : [];
  return { text, thought, toolCalls, finishReason: mapFinishReason(choice?.finish_reason), usage };
}

function mapFinishReason(reason: string | null | undefined): FinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  if (reason === 'length') return 'length';
  if (reason === 'abort') return 'abort';
  if (reason === 'error') return 'error';
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  // stop, eos, content_filter: the answer ended.
  return 'stop';
}

/** Streamed tool-call pieces → whole calls, by `index` (OpenAI streams a call's arguments in pieces). */
export class ToolCallAssembler {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  add(pieces: readonly WireToolCallDelta[]): void {
    for (const piece of pieces) {
      const index = typeof piece.index === 'number' ? piece.index : this.calls.size;
      const call = this.calls.get(index) ?? { id: '', name: '', arguments: '' };
      if (piece.id) call.id = piece.id;
      if (piece.function?.name) call.name += piece.function.name;
      if (piece.function?.arguments) call.arguments += piece.function.arguments;
      this.calls.set(index, call);
    }
  }

  /** The calls so far, in index order; an endpoint that sent no id gets one. */
  result(): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({
        id: call.id || `call_${index}`,
        name: call.name,
        arguments: call.arguments || '{}',
      }));
  }
}
