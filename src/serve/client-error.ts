import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody } from './openai-format.js';

/**
 * A request node's HTTP parser rejects (a `\` in the path, a broken header, headers too large, too slow) never
 * reaches fastify's routes or hooks: answer it here in the same OpenAI error shape as everything else, and
 * close the socket as node itself does. There is no request to authenticate, and the answer says nothing about
 * the routes.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message, code] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request took too long to arrive', 'request_timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large', 'headers_too_large']
        : [400, 'the request is not valid HTTP', 'bad_request'];
  const body = JSON.stringify(errorBody(message, 'invalid_request_error', code));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
