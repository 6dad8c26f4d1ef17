import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { ZodType } from 'zod';
import { AtomrError } from '../core/errors.js';
import { RUNTIME_NAMES, mediaRefusal, type ExecuteBatch } from '../core/model-runner.js';
import { redactSecrets } from '../core/secrets.js';
import { clientErrorHandler } from './client-error.js';
import type { ServeContext } from './context.js';
import { runGeneration } from './generate.js';
import { TRANSCRIPTIONS_PATH, readTranscriptionBody, registerTranscriptions } from './transcriptions.js';
import { guardHook, isAuthorized, refuseUnauthorized } from './guard.js';
import { createLogStream, type LogFormat, type LogLevel, type LogSink } from './logging.js';
import { httpErrorFor } from './http-errors.js';
import type { MediaOptions } from './media-parts.js';
import { errorBody, newResponseMeta, type Endpoint, type OpenAiErrorBody } from './openai-format.js';
import {
  chatRequestSchema,
  completionRequestSchema,
  describeIssue,
  messagesFrom,
  promptFrom,
  requestedMedia,
  responseFormatFrom,
  thinkingFrom,
  toolsFrom,
  samplingFrom,
  type ChatRequest,
  type CompletionRequest,
} from './schemas.js';

/**
 * The HTTP surface of `serve` (fastify): OpenAI's `/v1/chat/completions`, `/v1/completions`, `/v1/models`,
 * and `/health` for load balancers. Every error is OpenAI-shaped JSON so OpenAI clients report it properly.
 */

export interface ServeAppOptions {
  /** Every request but `/health` must carry `Authorization: Bearer <key>` when set (see guard.ts). */
  apiKey?: string | undefined;
  /** Largest accepted request body in bytes (413 beyond). */
  bodyLimit?: number;
  log?: { level: LogLevel; format: LogFormat; sink?: LogSink };
  /** Whether and where `image_url` http(s) URLs are fetched (`--allow-remote-media`); default: never. */
  media?: MediaOptions;
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The generation routes: one handler (below) for both; each entry says only how its body becomes the runner's
 * input. `/v1/chat/completions` renders messages with the chat template; `/v1/completions` continues a prompt.
 */
interface GenerationRoute<T extends ChatRequest | CompletionRequest> {
  path: string;
  endpoint: Endpoint;
  schema: ZodType<T>;
  input: (
    body: T,
    media: MediaOptions,
  ) => Promise<
    Pick<ExecuteBatch, 'messages' | 'mode' | 'responseFormat' | 'thinking' | 'tools' | 'toolChoice'>
  >;
  /** The media kinds the body carries, checked against the runner's describe() before any is decoded. */
  media?: (body: T) => { index: number; kind: 'image' | 'audio' }[];
}

function generationRoute<T extends ChatRequest | CompletionRequest>(
  route: GenerationRoute<T>,
): GenerationRoute<ChatRequest | CompletionRequest> {
  return route as unknown as GenerationRoute<ChatRequest | CompletionRequest>;
}

const GENERATION_ROUTES = [
  generationRoute({
    path: '/v1/chat/completions',
    endpoint: 'chat',
    schema: chatRequestSchema,
    input: async (body, media) => ({
      messages: await messagesFrom(body, media),
      ...responseFormatFrom(body),
      ...thinkingFrom(body),
      ...toolsFrom(body),
    }),
    media: requestedMedia,
  }),
  generationRoute({
    path: '/v1/completions',
    endpoint: 'completion',
    schema: completionRequestSchema,
    input: async (body) => ({
      messages: [{ role: 'user', content: promptFrom(body) }],
      mode: 'completion',
    }),
  }),
];

export function buildServeApp(ctx: ServeContext, options: ServeAppOptions = {}): FastifyInstance {
  const log = options.log ?? { level: 'info', format: 'json' };
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: {
      level: log.level,
      stream: createLogStream(log.format, log.sink),
      redact: ['req.headers.authorization'],
    },
    // One line per request from our own hooks instead (fastify's pair misses hijacked streams).
    logController: new LogController({ disableRequestLogging: true }),
    // Idle keep-alive sockets close at shutdown; streams in flight get their grace period (see start.ts).
    forceCloseConnections: 'idle',
    // Requests on sockets still open during shutdown get our own 503 from guardHook, in the documented shapes.
    return503OnClosing: false,
    clientErrorHandler,
    // A path the router cannot decode (`/v1/models/%zz`) never reaches the hooks: answer it here, key first.
    frameworkErrors: (error, request, reply) => {
      if (!isAuthorized(request, options.apiKey)) return void refuseUnauthorized(request, reply);
      void replyError(reply, 400, errorBody(error.message, 'invalid_request_error', errorCode(error)));
    },
  });

  // Like llama-server and Ollama, read JSON whatever the content type says (`curl -d` sends form encoding), with
  // one parser for every type so an empty or blank body is `empty_body` however it was labelled (issue 9).
  // fastify's JSON parser (secure-json-parse) still does the parsing: `__proto__` keys are refused.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(emptyBodyError(), undefined);
    // Typed as possibly async; with a callback it answers through `done` (the return value carries nothing).
    void parseJson(request, text, (error, value) => {
      if (error)
        done(bodyError('the request body is not valid JSON', 'FST_ERR_CTP_INVALID_JSON_BODY'), undefined);
      else done(null, value);
    });
  });

  // The transcription route takes a multipart form (bytes); a form sent anywhere else is read as before.
  app.addContentTypeParser(/^multipart\/form-data/i, { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (request.routeOptions.url === TRANSCRIPTIONS_PATH) {
      return done(null, readTranscriptionBody(bytes, request.headers['content-type']));
    }
    void parseJson(request, bytes.toString('utf8'), (error, value) => {
      if (error)
        done(bodyError('the request body is not valid JSON', 'FST_ERR_CTP_INVALID_JSON_BODY'), undefined);
      else done(null, value);
    });
  });

  app.addHook('onRequest', guardHook(ctx, options.apiKey));

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (error instanceof AtomrError || status >= 500) {
      // Ours, or a failure no client caused: the one error → status map (http-errors.ts).
      const answer = httpErrorFor(error);
      if (answer.status >= 500) request.log.error({ err: redactSecrets(error.message) }, 'request failed');
      return replyError(reply, answer.status, answer.body);
    }
    const message =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`
        : error.message;
    return replyError(reply, status, errorBody(message, 'invalid_request_error', errorCode(error)));
  });

  app.setNotFoundHandler(async (request, reply) =>
    replyError(
      reply,
      404,
      errorBody(`no route ${request.method} ${request.url}`, 'not_found_error', 'not_found'),
    ),
  );

  app.get('/health', { config: { public: true } }, async (_request, reply) => {
    const body = {
      status: ctx.status === 'ready' ? 'ok' : ctx.status,
      model: ctx.model.id,
      active: ctx.scheduler.active,
      queued: ctx.scheduler.queued,
      parallel: ctx.scheduler.parallel,
    };
    return reply.code(ctx.status === 'ready' ? 200 : 503).send(body);
  });

  const modelEntry = () => ({
    id: ctx.model.id,
    object: 'model',
    created: ctx.model.created,
    owned_by: 'atomr-infer',
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [modelEntry()] }));
  app.get<{ Params: { id: string } }>('/v1/models/*', async (request, reply) => {
    const id = (request.params as Record<string, string>)['*'] ?? '';
    if (!ctx.serves(id)) return replyError(reply, 404, unknownModel(id, ctx));
    return modelEntry();
  });

  for (const route of GENERATION_ROUTES) {
    app.post(route.path, async (request, reply) => {
      const parsed = parse(route.schema, request.body);
      if ('error' in parsed) return replyError(reply, 400, parsed.error);
      const body = parsed.data;
      if (!ctx.serves(body.model)) return replyError(reply, 404, unknownModel(body.model, ctx));
      // What the runner cannot take is refused before any media is decoded or fetched.
      const description = ctx.runner?.describe();
      for (const { index, kind } of route.media?.(body) ?? []) {
        const accepts = description?.media ?? [];
        if (description && !accepts.includes(kind)) {
          throw mediaRefusal(index, kind, RUNTIME_NAMES[description.runtime], accepts);
        }
      }
      const input = await route.input(body, options.media ?? { remote: 'off' });
      const meta = newResponseMeta(route.endpoint, ctx.model.id);
      return runGeneration(ctx, request, reply, {
        meta,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        batch: {
          requestId: meta.id,
          model: ctx.model.id,
          ...input,
          sampling: samplingFrom(body),
          stream: body.stream === true,
        },
      });
    });
  }

  registerTranscriptions(app, ctx);

  return app;
}

function parse<T>(schema: ZodType<T>, body: unknown): { data: T } | { error: OpenAiErrorBody } {
  // No content type and no body: fastify runs no parser at all.
  if (body === undefined) {
    return { error: errorBody(emptyBodyError().message, 'invalid_request_error', 'empty_body') };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return {
      error: errorBody('the request body must be a JSON object', 'invalid_request_error', 'invalid_body'),
    };
  }
  const result = schema.safeParse(body);
  if (result.success) return { data: result.data };
  const issue = describeIssue(result.error);
  return { error: errorBody(issue.message, 'invalid_request_error', 'invalid_value', issue.param) };
}

function bodyError(message: string, code: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code });
}

function emptyBodyError(): Error {
  return bodyError('the request body is empty: send a JSON object', 'FST_ERR_CTP_EMPTY_JSON_BODY');
}

function unknownModel(name: string, ctx: ServeContext): OpenAiErrorBody {
  return errorBody(
    `model "${name}" is not served here; this server serves "${ctx.model.id}"`,
    'not_found_error',
    'model_not_found',
    'model',
  );
}

function errorCode(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'invalid_json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'empty_body';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'invalid_url';
    default:
      return error.code ? error.code.toLowerCase() : 'invalid_request';
  }
}

async function replyError(reply: FastifyReply, status: number, body: OpenAiErrorBody): Promise<FastifyReply> {
  return reply.code(status).send(body);
}
