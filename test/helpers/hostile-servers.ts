import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Loopback servers that misbehave the way real endpoints do when they are wrong or overloaded: one that accepts
 * connections and never says a word, one that sends response headers and then stalls the body, and one scripted
 * per request (an HTML page with 200, JSON of the wrong shape). For the Hub client, the remote runner and the CLI.
 */

export interface HostileServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests seen so far (for the silent server: connections that sent a request; undici opens spare ones). */
  hits(): number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never sends a byte (a hung process, a black-holing proxy). */
export async function startSilentServer(): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  let hits = 0;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => hits++);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export type ScriptedHandler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

/** An HTTP server whose every request is answered by `handler` (which may never end the response). */
export async function startScriptedServer(handler: ScriptedHandler): Promise<HostileServer> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    handler(req, res, hits++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `status` and headers (and `prefix` of the body), then nothing more, never ending the response. */
export function stallAfterHeaders(
  options: { status?: number; contentType?: string; prefix?: string } = {},
): ScriptedHandler {
  return (_req, res) => {
    res.writeHead(options.status ?? 200, { 'content-type': options.contentType ?? 'application/json' });
    if (options.prefix) res.write(options.prefix);
    else res.flushHeaders();
  };
}

/** A 200 answer with a fixed body: an HTML page, a JSON document of the wrong shape… */
export function fixedAnswer(
  body: string,
  contentType = 'text/html; charset=utf-8',
  status = 200,
): ScriptedHandler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
}

export const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome</h1></body></html>';
