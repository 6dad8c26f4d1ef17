import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerMatches } from './auth.js';
import type { ServeContext } from './context.js';
import { errorBody, type OpenAiErrorBody } from './openai-format.js';

/**
 * Who may reach which route of `serve`, decided on the route the router matched, never on the URL's text: a
 * prefix test on the raw URL (`/v1/`) let `/v%31/chat/completions` and `http://host/v1/models` through, because
 * the router decodes and normalises what the prefix test did not (issue 9). Deny by default: every route needs
 * the key except the ones marked `public` (only `/health`, for load balancers), and a path that matches no
 * route needs it too, so a client without the key learns nothing about which routes exist (401 before 404).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without the API key, and with its own body during shutdown. Only `/health`. */
    public?: boolean;
  }
}

/** True when the router matched a route marked public. Unknown paths (the 404 handler) never are. */
export function isPublicRoute(request: FastifyRequest): boolean {
  return !request.is404 && request.routeOptions.config?.public === true;
}

/** True when no key is configured, or the request presents it. */
export function isAuthorized(request: FastifyRequest, apiKey: string | undefined): boolean {
  return !apiKey || bearerMatches(request.headers.authorization, apiKey);
}

export function unauthorizedBody(request: FastifyRequest): OpenAiErrorBody {
  const presented = request.headers.authorization !== undefined;
  return errorBody(
    presented ? 'invalid API key' : 'missing API key: send "Authorization: Bearer <key>"',
    'authentication_error',
    'invalid_api_key',
  );
}

export async function refuseUnauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return reply.code(401).header('www-authenticate', 'Bearer').send(unauthorizedBody(request));
}

/**
 * The onRequest hook every request passes (the 404 handler included): the key first, then shutdown. While the
 * server stops, a request on a kept-alive socket gets the documented 503 `shutting_down` (fastify's own
 * return503OnClosing answer has another shape) and the socket is closed after it.
 */
export function guardHook(ctx: ServeContext, apiKey: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const open = isPublicRoute(request);
    if (!open && !isAuthorized(request, apiKey)) return refuseUnauthorized(request, reply);
    if (ctx.status === 'stopping') {
      reply.header('connection', 'close');
      if (!open) {
        return reply
          .code(503)
          .send(errorBody('the server is shutting down', 'server_error', 'shutting_down'));
      }
    }
    return undefined;
  };
}
