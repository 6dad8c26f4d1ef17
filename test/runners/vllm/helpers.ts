import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import OpenAI from 'openai';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createVllmRunner } from '../../../src/runners/vllm/index.js';
import { startServer, type RunningServer, type ServeOptions } from '../../../src/serve/start.js';

/**
 * The interpreter `python3` resolves to. Tests pass it directly: a pyenv shim in front of it costs ~0.3 s per
 * interpreter start. (Tests about PATH resolution pass `python: 'python3'` themselves.)
 */
export const TEST_PYTHON =
  spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() ||
  'python3';

/** The directory holding the fake `vllm` package (test/fakes/vllm/vllm). */
export const FAKE_VLLM_PATH = resolve(import.meta.dirname, '../../fakes/vllm');

export interface FakeEnv {
  recordFile: string;
  /** Restores process.env and removes the temp dir. */
  restore(): void;
}

/**
 * Puts the fake vLLM on PYTHONPATH (the interpreter inherits process.env when it starts) plus any FAKE_VLLM_*
 * controls; returns the record file the fake writes its calls to.
 */
export function useFakeVllm(vars: Record<string, string | undefined> = {}, onPath = true): FakeEnv {
  const dir = mkdtempSync(join(tmpdir(), 'atomr-vllm-test-'));
  const recordFile = join(dir, 'record.jsonl');
  const saved = new Map<string, string | undefined>();
  const set = (name: string, value: string | undefined): void => {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  const pythonPath = process.env.PYTHONPATH;
  set('PYTHONPATH', onPath ? [FAKE_VLLM_PATH, pythonPath].filter(Boolean).join(delimiter) : pythonPath);
  set('FAKE_VLLM_RECORD_FILE', recordFile);
  set('PYTHONDONTWRITEBYTECODE', '1'); // no __pycache__ in the source tree
  for (const [name, value] of Object.entries(vars)) set(name, value);
  return {
    recordFile,
    restore() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RecordedEvent {
  event: 'engine_args' | 'add_request' | 'abort_request' | 'worker_spawned';
  kwargs?: Record<string, unknown>;
  request_id?: string;
  request_ids?: string[];
  prompt?: string;
  params?: Record<string, unknown>;
  method?: string;
}

export function readRecord(file: string): RecordedEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedEvent);
}

export function makeRunner(
  settings: Record<string, unknown> = {},
  model = 'google/gemma-4-E2B-it',
): Promise<ModelRunner> {
  return createVllmRunner({
    runtime: 'vllm',
    model,
    weights: { kind: 'huggingface', repo: model },
    settings: { engineLogs: 'silent', python: TEST_PYTHON, ...settings },
  });
}

/**
 * `serve` on 127.0.0.1:0 as model `gemma` over `makeRunner(settings)` (2 slots, a queue of 4, no logs), resolved
 * once the runner is loaded; `extra` adds or overrides serve options.
 */
export async function startVllmServer(
  settings: Record<string, unknown> = {},
  extra: Partial<ServeOptions> = {},
): Promise<RunningServer> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    model: { id: 'gemma', aliases: [], created: 0 },
    loadRunner: () => makeRunner(settings),
    parallel: 2,
    maxQueue: 4,
    shutdownGraceMs: 1000,
    log: { level: 'silent', format: 'json' },
    ...extra,
  });
  await server.ready;
  return server;
}

/** The official OpenAI client on a server without an API key, with no retries. */
export function openAiClient(server: RunningServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

/** `chat --runtime vllm --model <model>` and then `rest`: the built CLI's arguments for a chat on vLLM. */
export function vllmChatArgs(model: string, ...rest: string[]): string[] {
  return ['chat', '--runtime', 'vllm', '--model', model, ...rest];
}

export function chat(
  requestId: string,
  content: string,
  sampling: ExecuteBatch['sampling'] = {},
): ExecuteBatch {
  return {
    requestId,
    model: 'google/gemma-4-E2B-it',
    messages: [{ role: 'user', content }],
    sampling,
    stream: true,
  };
}

export interface Collected {
  text: string;
  chunks: TokenChunk[];
  final: TokenChunk;
}

export async function collect(stream: AsyncIterable<TokenChunk>): Promise<Collected> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const final = chunks.at(-1);
  if (!final) throw new Error('the stream produced no chunk');
  return { text: chunks.map((c) => c.textDelta).join(''), chunks, final };
}
