import {
  AtomrError,
  ConfigError,
  InterruptedError,
  ModelError,
  RuntimeFailure,
  SkippedError,
  UsageError,
} from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import { errorBody, type OpenAiErrorBody } from './openai-format.js';

/**
 * The one map from an error to the HTTP answer `serve` gives (as Ollama's routes.go keeps one error → status
 * table): every route and the generation path ask it, so the same failure gets the same status everywhere.
 *
 * | error                                   | status | OpenAI type             |
 * | --------------------------------------- | ------ | ----------------------- |
 * | UsageError (the request cannot be run)  | 400    | invalid_request_error   |
 * | ModelError (weights missing or broken)  | 503    | server_error            |
 * | ConfigError, SkippedError (this server) | 500    | server_error            |
 * | RuntimeFailure, by code:                |        |                         |
 * |   remote-rate-limited                   | 429    | rate_limit_error        |
 * |   remote-timeout                        | 504    | server_error            |
 * |   other remote-* (the upstream failed)  | 502    | server_error            |
 * |   runner-disposed, engine-closed        | 503    | server_error            |
 * |   anything else                         | 500    | server_error            |
 * | InterruptedError (shutdown)             | 503    | server_error            |
 * | anything not ours (a bug)               | 500    | server_error, no detail |
 *
 * The message is ours and redacted; an error that is not an AtomrError says only that the runner failed, since
 * its text may be anything. A 400 carries the error's hint too (what is accepted: the schema keywords, the
 * runtimes that take images), since an API client has no other line to read it on.
 */
export interface HttpError {
  status: number;
  body: OpenAiErrorBody;
}

export function httpErrorFor(error: unknown): HttpError {
  if (!(error instanceof AtomrError)) {
    return {
      status: 500,
      body: errorBody('the runner failed unexpectedly; see the server log', 'server_error', 'runner_error'),
    };
  }
  const [status, type] = statusOf(error);
  const hint = status === 400 && error.hint ? ` (hint: ${error.hint})` : '';
  const message = redactSecrets(`${error.message}${hint}`);
  // The error's own code (e.g. `remote-rate-limited`, `unsupported_content`): the same one the CLI prints.
  return { status, body: errorBody(message, type, error.code) };
}

type ErrorType = Parameters<typeof errorBody>[1];

function statusOf(error: AtomrError): [number, ErrorType] {
  if (error instanceof UsageError) return [400, 'invalid_request_error'];
  if (error instanceof ModelError) return [503, 'server_error'];
  if (error instanceof ConfigError || error instanceof SkippedError) return [500, 'server_error'];
  if (error instanceof InterruptedError) return [503, 'server_error'];
  if (error instanceof RuntimeFailure) {
    if (error.code === 'remote-rate-limited') return [429, 'rate_limit_error'];
    if (error.code === 'remote-timeout') return [504, 'server_error'];
    if (error.code.startsWith('remote-')) return [502, 'server_error'];
    if (error.code === 'runner-disposed' || error.code === 'engine-closed') return [503, 'server_error'];
  }
  return [500, 'server_error'];
}
