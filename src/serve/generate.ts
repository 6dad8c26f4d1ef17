import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecuteBatch, FinishReason, TokenUsage, ToolCall } from '../core/model-runner.js';
import { redactSecrets } from '../core/secrets.js';
import { SHUTDOWN_ABORT, type ServeContext } from './context.js';
import {
  StreamEncoder,
  completeResponse,
  errorBody,
  type OpenAiErrorBody,
  type ResponseMeta,
} from './openai-format.js';
import { QueueFullError, SchedulerClosedError } from './scheduler.js';
import { httpErrorFor } from './http-errors.js';
import { SseWriter } from './sse-writer.js';

/**
 * Runs one generation for `/v1/chat/completions` or `/v1/completions`: waits for a scheduler slot, drives the
 * runner, and answers as one JSON body or as server-sent events. A client that goes away aborts its
 * generation (the runner frees the sequence); shutdown aborts what is still running after the grace period.
 */

export interface Generation {
  meta: ResponseMeta;
  batch: ExecuteBatch;
  stream: boolean;
  includeUsage: boolean;
  /** Answers a non-streamed generation in another shape than a completion (the transcription route). */
  respond?: (text: string, usage: TokenUsage | undefined) => Promise<void>;
}

export async function runGeneration(
  ctx: ServeContext,
  request: FastifyRequest,
  reply: FastifyReply,
  generation: Generation,
): Promise<void> {
  const runner = ctx.runner;
  if (ctx.status === 'loading' || !runner) {
    return sendError(reply, 503, errorBody('the model is still loading', 'server_error', 'model_loading'), 5);
  }
  const controller = new AbortController();
  const res = reply.raw;
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort();
  };
  res.on('close', onClose);
  const untrack = ctx.track(controller);
  const started = performance.now();
  let release: (() => void) | undefined;
  let firstTokenMs: number | undefined;
  let usage: TokenUsage | undefined;
  let finish: FinishReason | undefined;
  try {
    try {
      release = await ctx.scheduler.acquire(controller.signal);
    } catch (error) {
      if (error instanceof QueueFullError) {
        return sendError(
          reply,
          429,
          errorBody('the server is at capacity; retry later', 'rate_limit_error', 'queue_full'),
          error.retryAfterSeconds,
        );
      }
      if (error instanceof SchedulerClosedError) {
        return sendError(
          reply,
          503,
          errorBody('the server is shutting down', 'server_error', 'shutting_down'),
        );
      }
      return abandon(reply);
    }
    const encoder = generation.stream ? new StreamEncoder(generation.meta) : undefined;
    const sse = generation.stream ? new SseWriter(reply) : undefined;
    let text = '';
    let thought = '';
    let toolCalls: readonly ToolCall[] = [];
    try {
      for await (const chunk of runner.execute(generation.batch, { signal: controller.signal })) {
        if (chunk.thoughtDelta) {
          if (firstTokenMs === undefined) firstTokenMs = performance.now() - started;
          if (encoder && sse) {
            const frame = encoder.thought(chunk.thoughtDelta);
            await sse.send(sse.isOpen ? frame : encoder.opening() + frame);
          } else {
            thought += chunk.thoughtDelta;
          }
        }
        if (chunk.textDelta !== '') {
          if (firstTokenMs === undefined) firstTokenMs = performance.now() - started;
          if (encoder && sse) {
            const frame = encoder.text(chunk.textDelta);
            await sse.send(sse.isOpen ? frame : encoder.opening() + frame);
          } else {
            text += chunk.textDelta;
          }
        }
        if (chunk.toolCalls) toolCalls = chunk.toolCalls;
        if (chunk.usage) usage = chunk.usage;
        if (chunk.finishReason) finish = chunk.finishReason;
      }
    } catch (error) {
      finish = 'error';
      const { status, body: failure } = httpErrorFor(error);
      request.log.warn(
        { err: redactSecrets(error instanceof Error ? error.message : String(error)), status },
        'generation failed',
      );
      if (!sse?.isOpen) return sendError(reply, status, failure);
      sse.end(encoder!.error(failure) + encoder!.done());
      return;
    }
    if (controller.signal.aborted && controller.signal.reason === SHUTDOWN_ABORT) {
      const failure = errorBody(
        'the server shut down before the answer was complete',
        'server_error',
        'shutting_down',
      );
      if (!sse?.isOpen) return sendError(reply, 503, failure);
      sse.end(encoder!.error(failure) + encoder!.done());
      return;
    }
    if (controller.signal.aborted) return abandon(reply);
    if ((!encoder || !sse) && generation.respond) {
      await generation.respond(text, usage);
      return;
    }
    if (!encoder || !sse) {
      await reply.send(completeResponse(generation.meta, text, finish, usage, thought, toolCalls));
      return;
    }
    let tail = sse.isOpen ? '' : encoder.opening();
    toolCalls.forEach((call, index) => {
      tail += encoder.toolCall(index, call);
    });
    tail += encoder.finish(finish);
    if (generation.includeUsage) tail += encoder.usage(usage);
    sse.end(tail + encoder.done());
  } finally {
    release?.();
    untrack();
    res.off('close', onClose);
    request.log.info(
      {
        id: generation.meta.id,
        finish: controller.signal.aborted && finish !== 'error' ? 'abort' : (finish ?? 'none'),
        promptTokens: usage?.input,
        completionTokens: usage?.output,
        ttftMs: firstTokenMs === undefined ? undefined : Math.round(firstTokenMs),
        durationMs: Math.round(performance.now() - started),
      },
      'generation finished',
    );
  }
}

async function sendError(
  reply: FastifyReply,
  status: number,
  body: OpenAiErrorBody,
  retryAfterSeconds?: number,
): Promise<void> {
  if (reply.raw.destroyed) return abandon(reply);
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  await reply.code(status).send(body);
}

/** The client is gone: nothing to answer, just let the socket go. */
function abandon(reply: FastifyReply): void {
  if (!reply.sent) reply.hijack();
  if (!reply.raw.writableEnded) reply.raw.destroy();
}
