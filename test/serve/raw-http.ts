import { connect, type Socket } from 'node:net';

/**
 * HTTP requests written byte for byte on a plain socket. fetch and the OpenAI client normalise paths (`%31`,
 * `..`, `//`) and always speak HTTP/1.1, so hostile paths, HTTP/1.0 and kept-alive sockets need this.
 */

export interface RawResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the socket after this response. */
  closed: boolean;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Default `1.1`. */
  version?: '1.0' | '1.1';
}

function requestText(request: RawRequest): string {
  const body = request.body ?? '';
  const headers: Record<string, string> = { host: 'localhost', ...request.headers };
  if (request.body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(body));
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `${request.method ?? 'GET'} ${request.path} HTTP/${request.version ?? '1.1'}\r\n${head}\r\n${body}`;
}

/** Parses one response off the front of `data`; undefined until it is complete. */
function parseResponse(
  data: Buffer,
  ended: boolean,
  head: boolean,
): { response: RawResponse; rest: Buffer } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = data.subarray(headEnd + 4);
  let body: string;
  if (head || status === 204 || status === 304) {
    // No body whatever the headers say (HEAD answers carry the GET's content-length).
    body = '';
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length < length) return undefined;
    body = rest.subarray(0, length).toString();
    rest = rest.subarray(length);
  } else if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const sizeEnd = rest.indexOf('\r\n');
      if (sizeEnd === -1) return undefined;
      const size = parseInt(rest.subarray(0, sizeEnd).toString(), 16);
      const chunk = rest.subarray(sizeEnd + 2);
      if (chunk.length < size + 2) return undefined;
      rest = chunk.subarray(size + 2);
      if (size === 0) break;
      parts.push(chunk.subarray(0, size));
    }
    body = Buffer.concat(parts).toString();
  } else {
    // Neither length nor chunking: the body ends when the server closes the socket.
    if (!ended) return undefined;
    body = rest.toString();
    rest = Buffer.alloc(0);
  }
  return { response: { status, headers, body, closed: false }, rest };
}

/** A kept-alive connection that sends requests one after another and reads each response. */
export class RawConnection {
  private data: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  private readonly socket: Socket;
  readonly connected: Promise<void>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.waiter?.();
    });
    this.socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
    this.socket.on('error', () => undefined);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends one request and resolves to its response; rejects if the socket closes first. */
  async send(request: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
    await this.write(request);
    return this.read(request.method, timeoutMs);
  }

  /** Writes a request without waiting for an answer (several in a row are pipelined). */
  async write(request: RawRequest): Promise<void> {
    await this.connected;
    this.socket.write(requestText(request));
  }

  /** Reads the next response (to a request made with `method`). */
  async read(method = 'GET', timeoutMs = 20_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.data, this.ended, method === 'HEAD');
      if (parsed) {
        this.data = parsed.rest;
        // Give a close that follows the response a moment to arrive, so `closed` is reliable.
        if (!this.ended && parsed.response.headers.connection === 'close') await this.waitFor(2_000);
        return { ...parsed.response, closed: this.ended };
      }
      if (this.ended)
        throw new Error(`the server closed the connection: ${JSON.stringify(this.data.toString())}`);
      if (Date.now() > deadline)
        throw new Error(`no complete response in time: ${JSON.stringify(this.data.toString())}`);
      await this.waitFor(deadline - Date.now());
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiter = () => {
        this.waiter = undefined;
        done();
      };
    });
  }
}

/** One request on its own connection. */
export async function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  const connection = new RawConnection(url);
  try {
    return await connection.send(request);
  } finally {
    connection.close();
  }
}
