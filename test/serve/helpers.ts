import type { ModelRunner } from '../../src/core/model-runner.js';
import { createRunner } from '../../src/runners/index.js';
import type { LogSink } from '../../src/serve/logging.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve/start.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/** `serve` on 127.0.0.1:0 over the real llama.cpp runner and a generated tiny GGUF (one thread). */

export const MODEL_ID = 'tiny-gemma';

let modelPath: Promise<string> | undefined;

/** One tiny instruction-tuned model per test file: answers never end by themselves, so they run to max_tokens. */
export function tinyModel(): Promise<string> {
  modelPath ??= writeTinyGguf({ arch: 'gemma3', seed: 7 });
  return modelPath;
}

export async function createTinyRunner(sequences: number, contextSize = 1024): Promise<ModelRunner> {
  return createRunner({
    runtime: 'llama-cpp',
    model: MODEL_ID,
    weights: { kind: 'local-path', path: await tinyModel() },
    settings: { threads: 1, sequences, contextSize },
  });
}

/** Keeps every log line as parsed JSON, so tests can see what the server logged. */
export class LogCapture implements LogSink {
  readonly entries: Record<string, unknown>[] = [];

  write(line: string): void {
    this.entries.push(JSON.parse(line) as Record<string, unknown>);
  }

  messages(msg: string): Record<string, unknown>[] {
    return this.entries.filter((entry) => entry.msg === msg);
  }

  text(): string {
    return this.entries.map((entry) => JSON.stringify(entry)).join('\n');
  }
}

export interface TestServer {
  server: RunningServer;
  logs: LogCapture;
  baseURL: string;
}

export async function startTinyServer(
  options: Partial<ServeOptions> & { parallel?: number; loadGate?: Promise<void> } = {},
): Promise<TestServer> {
  const logs = new LogCapture();
  const parallel = options.parallel ?? 4;
  const { loadGate, ...rest } = options;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    model: { id: MODEL_ID, aliases: ['tiny-alias'], created: 1_700_000_000 },
    loadRunner: async () => {
      await loadGate;
      return createTinyRunner(parallel);
    },
    parallel,
    maxQueue: 16,
    shutdownGraceMs: 5_000,
    log: { level: 'info', format: 'json', sink: logs },
    ...rest,
  });
  return { server, logs, baseURL: `${server.url}/v1` };
}

/** Polls until `check` passes (or fails the test after `timeoutMs`). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
