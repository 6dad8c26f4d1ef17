import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for an external OpenAI-compatible endpoint (a hosted API or a vLLM cluster), scripted
 * per test: each request is recorded and answered by the test's handler.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
  at: number;
  /** Resolves when the client closes the connection or the response ends. */
  closed: Promise<void>;
  /** True once the client went away before the response ended. */
  clientAborted: () => boolean;
}

export type Handler = (request: RecordedRequest, res: ServerResponse, index: number) => void | Promise<void>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests being answered right now, and the most seen at once. */
  concurrency: { now: number; max: number };
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const concurrency = { now: 0, max: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let aborted = false;
      concurrency.now++;
      concurrency.max = Math.max(concurrency.max, concurrency.now);
      const closed = new Promise<void>((resolve) => {
        res.on('close', () => {
          aborted = !res.writableFinished;
          concurrency.now--;
          resolve();
        });
      });
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
        at: Date.now(),
        closed,
        clientAborted: () => aborted,
      };
      requests.push(recorded);
      void Promise.resolve(current(recorded, res, requests.length - 1)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    concurrency,
    setHandler(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with an OpenAI chat stream of `pieces`, then usage and [DONE]. */
export function streamChat(
  res: ServerResponse,
  pieces: string[],
  options: { finish?: string; usage?: { prompt: number; completion: number }; delayMs?: number } = {},
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const frame = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
  return (async () => {
    res.write(
      frame({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    );
    for (const piece of pieces) {
      if (res.destroyed) return;
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      res.write(frame({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }));
    }
    res.write(frame({ choices: [{ index: 0, delta: {}, finish_reason: options.finish ?? 'stop' }] }));
    const usage = options.usage ?? { prompt: 7, completion: pieces.length };
    res.write(
      frame({
        choices: [],
        usage: {
          prompt_tokens: usage.prompt,
          completion_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
        },
      }),
    );
    res.end('data: [DONE]\n\n');
  })();
}

export function jsonError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type: 'error', code: null } }));
}
