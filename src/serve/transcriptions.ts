import type { FastifyInstance, FastifyReply } from 'fastify';
import { UsageError } from '../core/errors.js';
import { inspectAudio } from '../core/media.js';
import { MEDIA_RUNTIME_HINT, RUNTIME_NAMES } from '../core/model-runner.js';
import type { ServeContext } from './context.js';
import { runGeneration } from './generate.js';
import { formBoundary, parseMultipart, MultipartError, type FormData } from './multipart.js';
import { errorBody, newResponseMeta, type OpenAiErrorBody } from './openai-format.js';

/**
 * `POST /v1/audio/transcriptions`, OpenAI's shape (multipart `file`, `model`, optional `prompt`, `language`,
 * `response_format` json | text, `temperature`), answered by the served model itself: Gemma 4 E2B/E4B hear
 * speech through their audio encoder, so the clip goes to the runner as an audio part with an instruction to
 * transcribe it, and the answer comes back as `{"text": …}`. The runner must take audio (describe().media).
 */

export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';

/** The multipart body as read by app.ts's parser (a class, so no JSON body can pass for one). */
export class TranscriptionBody {
  constructor(
    readonly form: FormData | undefined,
    readonly error: string | undefined,
  ) {}
}

const NOT_A_FORM = 'the request must be multipart/form-data with a "file" part';

export function readTranscriptionBody(body: Buffer, contentType: string | undefined): TranscriptionBody {
  const boundary = formBoundary(contentType);
  if (!boundary) return new TranscriptionBody(undefined, NOT_A_FORM);
  try {
    return new TranscriptionBody(parseMultipart(body, boundary), undefined);
  } catch (error) {
    const why = error instanceof MultipartError ? error.message : 'malformed';
    return new TranscriptionBody(undefined, `the form cannot be read: ${why}`);
  }
}

function instruction(language: string | undefined, prompt: string | undefined): string {
  const into = language ? ` The speech is in ${language}.` : '';
  const context = prompt ? `\nContext (names, spelling, previous text): ${prompt}` : '';
  return `Transcribe this audio clip verbatim.${into} Output only the transcription, nothing else.${context}`;
}

export function registerTranscriptions(app: FastifyInstance, ctx: ServeContext): void {
  app.post(TRANSCRIPTIONS_PATH, async (request, reply) => {
    const body = request.body instanceof TranscriptionBody ? request.body : undefined;
    if (!body?.form) {
      return refuse(reply, errorBody(body?.error ?? NOT_A_FORM, 'invalid_request_error', 'invalid_body'));
    }
    const { fields, files } = body.form;
    const model = fields.get('model')?.trim();
    if (!model) return refuse(reply, invalidField('model', 'model: a model id is required'));
    if (!ctx.serves(model)) {
      return reply
        .code(404)
        .send(
          errorBody(
            `model "${model}" is not served here; this server serves "${ctx.model.id}"`,
            'not_found_error',
            'model_not_found',
            'model',
          ),
        );
    }
    const format = fields.get('response_format')?.trim() || 'json';
    if (format !== 'json' && format !== 'text') {
      return refuse(
        reply,
        invalidField(
          'response_format',
          `response_format "${format}" is not supported: expected json or text`,
        ),
      );
    }
    const temperature = fields.has('temperature') ? Number(fields.get('temperature')) : 0;
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2) {
      return refuse(reply, invalidField('temperature', 'temperature: expected a number from 0 to 2'));
    }
    const file = files.get('file');
    if (!file) return refuse(reply, invalidField('file', 'file: an audio file (WAV or MP3) is required'));
    const description = ctx.runner?.describe();
    if (description && !(description.media ?? []).includes('audio')) {
      throw new UsageError(
        `file: the ${RUNTIME_NAMES[description.runtime]} runner does not take audio, so it cannot transcribe`,
        { code: 'unsupported_content', hint: MEDIA_RUNTIME_HINT },
      );
    }
    const audio = inspectAudio(file.data, 'file');
    const meta = newResponseMeta('chat', ctx.model.id);
    const language = fields.get('language')?.trim() || undefined;
    return runGeneration(ctx, request, reply, {
      meta,
      stream: false,
      includeUsage: false,
      batch: {
        requestId: meta.id,
        model: ctx.model.id,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: instruction(language, fields.get('prompt')?.trim() || undefined) },
              { type: 'audio', data: file.data, format: audio.format },
            ],
          },
        ],
        sampling: { temperature },
        stream: false,
      },
      respond: async (text, usage) => {
        const transcript = text.trim();
        if (format === 'text') {
          await reply.type('text/plain; charset=utf-8').send(transcript);
          return;
        }
        await reply.send({
          text: transcript,
          ...(usage
            ? {
                usage: {
                  type: 'tokens',
                  input_tokens: usage.input,
                  output_tokens: usage.output,
                  total_tokens: usage.input + usage.output,
                },
              }
            : {}),
        });
      },
    });
  });
}

function invalidField(param: string, message: string): OpenAiErrorBody {
  return errorBody(message, 'invalid_request_error', 'invalid_value', param);
}

async function refuse(reply: FastifyReply, body: OpenAiErrorBody): Promise<FastifyReply> {
  return reply.code(400).send(body);
}
