import { z } from 'zod';
import { AUDIO_FORMATS } from '../core/media.js';
import type { ContentPart, ExecuteBatch, Message, SamplingParams } from '../core/model-runner.js';
import { mediaPart, type MediaOptions } from './media-parts.js';

/**
 * Request bodies of the OpenAI API subset `serve` implements. Unknown fields are ignored (clients send
 * `user`, `metadata`, …); fields we cannot honour (n > 1, logprobs) are rejected rather than
 * silently ignored, so a client never believes it got something it did not.
 */

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([z.string(), z.object({ url: z.string() })]),
});
/** OpenAI's audio input: base64 bytes and their format. */
const audioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.enum(AUDIO_FORMATS) }),
});

/** An assistant message's call, as OpenAI sends it back: the arguments are a JSON string. */
const toolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(z.union([textPart, imagePart, audioPart])), z.null()]).optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z.array(toolCallSchema).max(128).optional(),
});

/** A function the model may call; the name as OpenAI allows it, the parameters a JSON Schema object. */
const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
      error: 'expected 1 to 64 letters, digits, "_", "." or "-"',
    }),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

/**
 * The most messages one chat request may carry (OpenAI's own limit). Prompts far beyond the context make
 * node-llama-cpp's context shift work in time that grows faster than the number of messages, on the event loop
 * every request shares: 40,000 short messages stalled the whole server for seconds (issue 9).
 */
export const MAX_MESSAGES = 2048;

/**
 * Any positive whole number, as OpenAI and llama-server accept: generation stops anyway once the prompt and the
 * answer fill the context (finish_reason `length`), so a huge value only means "until the context is full".
 */
const maxTokensSchema = z
  .number()
  .positive()
  .refine(Number.isInteger, { error: 'expected a positive integer' })
  .nullish();

const stopSchema = z.union([z.string(), z.array(z.string()).max(16)]).nullish();

/** Sampling fields shared by both endpoints. */
const samplingFields = {
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: maxTokensSchema,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** Not OpenAI's, but vLLM's and llama-server's: widely sent. */
  top_k: z.number().int().min(0).nullish(),
  stop: stopSchema,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().min(0).max(4_294_967_295).nullish(),
  n: z.literal(1, { error: 'only n = 1 is supported' }).nullish(),
  logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullish(),
};

/**
 * OpenAI's `response_format`: `text` (the default), `json_object`, or `json_schema` with the schema the answer
 * must follow. The runner constrains decoding to it, or refuses the request (400) when it cannot.
 */
const responseFormatSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({
      type: z.literal('json_schema'),
      json_schema: z.object({
        name: z.string().max(64).optional(),
        description: z.string().optional(),
        schema: z.record(z.string(), z.unknown()),
        strict: z.boolean().nullish(),
      }),
    }),
  ])
  .nullish();

export const chatRequestSchema = z
  .object({
    ...samplingFields,
    messages: z
      .array(messageSchema)
      .min(1)
      .max(MAX_MESSAGES, { error: `at most ${MAX_MESSAGES} messages are accepted in one request` }),
    max_completion_tokens: maxTokensSchema,
    tools: z.array(toolSchema).max(128).nullish(),
    tool_choice: toolChoiceSchema.nullish(),
    /** Accepted; a forced call is one call, and `auto` returns what the model called. */
    parallel_tool_calls: z.boolean().nullish(),
    response_format: responseFormatSchema,
    /** OpenAI's: `none` turns thinking off; any other effort turns Gemma 4's (one level) thinking on. */
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullish(),
    /** vLLM's and llama-server's: `enable_thinking` for Gemma 4's chat template; other keys are ignored. */
    chat_template_kwargs: z.object({ enable_thinking: z.boolean().nullish() }).nullish(),
  })
  .superRefine((request, context) => {
    // What the shapes alone cannot say, each as a 400 naming the field (issue 12).
    const names = new Set((request.tools ?? []).map((tool) => tool.function.name));
    const choice = request.tool_choice;
    if (choice && typeof choice === 'object' && !names.has(choice.function.name)) {
      context.addIssue({
        code: 'custom',
        path: ['tool_choice', 'function', 'name'],
        message: `"${choice.function.name}" is not among the tools (${[...names].join(', ') || 'none given'})`,
      });
    }
    if (choice === 'required' && names.size === 0) {
      context.addIssue({ code: 'custom', path: ['tool_choice'], message: '"required" needs tools' });
    }
    request.messages.forEach((message, index) => {
      if (message.role === 'tool' && !message.tool_call_id) {
        context.addIssue({
          code: 'custom',
          path: ['messages', index, 'tool_call_id'],
          message: 'a tool message needs the id of the call it answers',
        });
      }
      if (message.tool_calls && message.role !== 'assistant') {
        context.addIssue({
          code: 'custom',
          path: ['messages', index, 'tool_calls'],
          message: 'only an assistant message carries tool_calls',
        });
      }
      message.tool_calls?.forEach((call, callIndex) => {
        try {
          const args: unknown = JSON.parse(call.function.arguments);
          if (args === null || typeof args !== 'object' || Array.isArray(args))
            throw new Error('not an object');
        } catch {
          context.addIssue({
            code: 'custom',
            path: ['messages', index, 'tool_calls', callIndex, 'function', 'arguments'],
            message: 'expected a JSON object as a string',
          });
        }
      });
    });
  });

export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1, { error: 'exactly one prompt is supported' })]),
  echo: z.literal(false, { error: 'echo is not supported' }).nullish(),
  suffix: z.null({ error: 'suffix is not supported' }).optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** OpenAI's sampling fields → ours (absent and null both mean "the runner's default"). */
export function samplingFrom(request: ChatRequest | CompletionRequest): SamplingParams {
  const sampling: SamplingParams = {};
  const maxTokens =
    ('max_completion_tokens' in request ? request.max_completion_tokens : undefined) ?? request.max_tokens;
  // Beyond 2^53 a number no longer counts tokens exactly; the runner caps it at the context anyway.
  if (maxTokens != null) sampling.maxTokens = Math.min(maxTokens, Number.MAX_SAFE_INTEGER);
  if (request.temperature != null) sampling.temperature = request.temperature;
  if (request.top_p != null) sampling.topP = request.top_p;
  if (request.top_k != null) sampling.topK = request.top_k;
  if (request.stop != null) sampling.stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.presence_penalty != null) sampling.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) sampling.frequencyPenalty = request.frequency_penalty;
  if (request.seed != null) sampling.seed = request.seed;
  return sampling;
}

/** The media kinds of a chat request's parts, each with where it is (`messages[0].content[1]`). */
export function requestedMedia(request: ChatRequest): { index: number; kind: 'image' | 'audio' }[] {
  const found: { index: number; kind: 'image' | 'audio' }[] = [];
  for (const [index, message] of request.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (part.type !== 'text') found.push({ index, kind: part.type === 'image_url' ? 'image' : 'audio' });
    }
  }
  return found;
}

/** Messages for the runner; media parts become bytes (data URLs decoded, URLs fetched when allowed), checked. */
export async function messagesFrom(request: ChatRequest, media: MediaOptions): Promise<Message[]> {
  const messages: Message[] = [];
  for (const [index, message] of request.messages.entries()) {
    const role = message.role === 'developer' ? 'system' : message.role;
    let content: Message['content'];
    if (message.content == null || typeof message.content === 'string') content = message.content ?? '';
    else {
      content = [];
      for (const [at, part] of message.content.entries()) {
        content.push(
          part.type === 'text'
            ? ({ type: 'text', text: part.text } satisfies ContentPart)
            : await mediaPart(part, `messages[${index}].content[${at}]`, media),
        );
      }
    }
    const toolCalls = message.tool_calls?.map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    }));
    messages.push({
      role,
      content,
      ...(message.tool_call_id === undefined ? {} : { toolCallId: message.tool_call_id }),
      ...(toolCalls && toolCalls.length > 0 ? { toolCalls } : {}),
    });
  }
  return messages;
}

/**
 * Thinking on or off: `chat_template_kwargs.enable_thinking` when given, else `reasoning_effort` (`none` = off);
 * off when neither says (Gemma 4's default).
 */
export function thinkingFrom(request: ChatRequest): Pick<ExecuteBatch, 'thinking'> {
  const explicit = request.chat_template_kwargs?.enable_thinking;
  if (explicit != null) return explicit ? { thinking: true } : {};
  const effort = request.reasoning_effort;
  return effort != null && effort !== 'none' ? { thinking: true } : {};
}

/** `tools` and `tool_choice` → the runner's; a function without parameters takes an empty object. */
export function toolsFrom(request: ChatRequest): Pick<ExecuteBatch, 'tools' | 'toolChoice'> {
  if (!request.tools || request.tools.length === 0) return {};
  const tools = request.tools.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description === undefined ? {} : { description: fn.description }),
    parameters: fn.parameters ?? { type: 'object', properties: {} },
  }));
  const choice = request.tool_choice;
  const toolChoice: ExecuteBatch['toolChoice'] =
    choice == null ? 'auto' : typeof choice === 'string' ? choice : { name: choice.function.name };
  return { tools, toolChoice };
}

/** `response_format` → the runner's ResponseFormat; `text` or absent: none. */
export function responseFormatFrom(request: ChatRequest): Pick<ExecuteBatch, 'responseFormat'> {
  const format = request.response_format;
  if (format?.type === 'json_object') return { responseFormat: { type: 'json_object' } };
  if (format?.type === 'json_schema') {
    const { name, schema } = format.json_schema;
    return { responseFormat: { type: 'json_schema', schema, ...(name === undefined ? {} : { name }) } };
  }
  return {};
}

export function promptFrom(request: CompletionRequest): string {
  return typeof request.prompt === 'string' ? request.prompt : (request.prompt[0] ?? '');
}

/** The first problem as `param` + one-line message, as OpenAI reports invalid requests. */
export function describeIssue(error: z.ZodError): { param: string | null; message: string } {
  const issue = error.issues[0];
  if (!issue) return { param: null, message: 'invalid request body' };
  const param = issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  return { param, message: param ? `${param}: ${issue.message}` : issue.message };
}
