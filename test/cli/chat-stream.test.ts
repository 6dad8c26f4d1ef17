import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentRegistry } from '../../src/core/deployments.js';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';
import { writeCachedSnapshot } from '../helpers/hf-cache.js';

/**
 * `chat --prompt` / piped stdin / `--json` end to end: the built CLI, the real llama.cpp runner, a generated
 * tiny GGUF, one thread. Every way of asking the same question with the same seed must print the same answer.
 */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;
let baseModel: string;
/** `chat --prompt STORY` with the common flags, computed once. */
let reference: string;
const STORY = 'Tell me a story';

const ANSI = /\x1b\[/; // eslint-disable-line no-control-regex

const common = (path: string, tokens = 24) => [
  '--model',
  path,
  '--threads',
  '1',
  '--seed',
  '7',
  '--max-tokens',
  String(tokens),
];

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma3', seed: 11, endOfTurn: 'never' });
  baseModel = await writeTinyGguf({ arch: 'gemma4', seed: 12, instructionTuned: false });
  reference = (await runCli(['chat', ...common(model), '--prompt', STORY], { env })).stdout;
});
afterAll(() => cleanup());

interface JsonDone {
  type: 'done';
  finishReason: string;
  usage: { input: number; output: number; cached: number } | null;
  outputTokens: number;
  ttftMs: number | null;
  tokensPerSecond: number | null;
}

describe('atomr-infer chat --prompt', () => {
  it('writes only the answer to stdout, the same text for the same seed', async () => {
    const again = await runCli(['chat', ...common(model), '--prompt', STORY], { env });
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
    expect(again.stdout.trim().length).toBeGreaterThan(0);
    expect(again.stdout.endsWith('\n')).toBe(true);
    expect(again.stdout).not.toMatch(ANSI);
    expect(again.stdout).not.toContain('atomr-infer');
    expect(again.stdout).toBe(reference);
    const other = await runCli(['chat', ...common(model), '--seed', '8', '--prompt', STORY], { env });
    expect(other.stdout).not.toBe(reference);
  });

  it('reads the prompt from piped stdin', async () => {
    const piped = await runCli(['chat', ...common(model)], { env, input: `${STORY}\n` });
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toBe(reference);
  });

  it('--json writes token events, then one done event with usage, finish reason, TTFT and tok/s', async () => {
    const run = await runCli(['chat', ...common(model), '--prompt', STORY, '--json'], { env });
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string });
    const done = events.at(-1) as unknown as JsonDone;
    const tokens = events.slice(0, -1);
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.every((event) => event.type === 'token' && typeof event.text === 'string')).toBe(true);
    expect(done.type).toBe('done');
    expect(done.finishReason).toBe('length');
    expect(done.usage?.output).toBe(24);
    expect(done.usage?.input).toBeGreaterThan(0);
    expect(done.ttftMs).toBeGreaterThan(0);
    expect(done.tokensPerSecond).toBeGreaterThan(0);
    expect(`${tokens.map((event) => event.text).join('')}\n`).toBe(reference);
  });

  it('a base model answers in completion mode and says so on stderr', async () => {
    const run = await runCli(['chat', ...common(baseModel), '--prompt', 'Once upon a time'], { env });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(run.stderr).toContain('completion mode');
  });

  it('streams, and Ctrl-C (SIGINT) stops the answer: partial text kept, exit 130', async () => {
    const child = runCli(['chat', ...common(model, 100_000), '--ctx', '32768', '--prompt', 'Go on'], { env });
    // Text arrives while the (up to 32k-token) answer is still being generated: it streams.
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
    expect(result.stderr).toContain('interrupted');
  });

  it('SIGTERM mid-answer stops it the same way, with 143 (the one stop policy: 128 + the signal)', async () => {
    const child = runCli(['chat', ...common(model, 100_000), '--ctx', '32768', '--prompt', 'Go on'], { env });
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
  });

  it('SIGTERM while the prompt is still being piped in ends at once: exit 143, one line', async () => {
    // stdin stays open (nothing closes the pipe), so only the signal can end the wait.
    const child = runCli(['chat', ...common(model), '--json'], { env, openStdin: true });
    child.stdin?.write('half a prompt');
    // Node itself catches SIGINT and SIGTERM from its first instruction (to reset the terminal); SIGHUP is caught
    // only once the command holds its StopSignals, so that bit says the policy is in place.
    await catchesSignal(child.pid!, 1);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toContain('atomr-infer: interrupted');
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('a file that is not GGUF → exit 4 with one line, no crash', async () => {
    const bad = join(env.HOME as string, 'not-a-model.gguf');
    writeFileSync(bad, 'hello, I am text\n');
    const run = await runCli(['chat', '--model', bad, '--prompt', 'hi'], { env });
    expect(run.exitCode).toBe(4);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });
});

describe('atomr-infer chat: where the model comes from', () => {
  it('a catalog model id runs the GGUF found in the Hugging Face cache', async () => {
    writeCachedSnapshot(env.HF_HUB_CACHE as string, 'ggml-org/gemma-4-E2B-it-GGUF', {
      'gemma-4-E2B-it-Q4_K_M.gguf': readFileSync(model),
    });
    const byId = await runCli(
      ['chat', ...common(model).slice(2), '--model', 'google/gemma-4-E2B-it', '--prompt', STORY],
      { env },
    );
    expect(byId.stderr).toBe('');
    expect(byId.exitCode).toBe(0);
    expect(byId.stdout).toBe(reference);
  });

  it('without --model, the registered gemma-local deployment is used', async () => {
    const registry = new DeploymentRegistry(join(env.ATOMR_INFER_HOME as string, 'deployments.json'));
    await registry.apply('gemma-local', {
      runtime: 'llama-cpp',
      model: 'tiny-test',
      weights: { kind: 'local-path', path: model },
      settings: { threads: 1 },
    });
    const run = await runCli(['chat', '--seed', '7', '--max-tokens', '24', '--prompt', STORY], { env });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(reference);
  });
});

/** Resolves once process `pid` catches signal `number` (Linux /proc SigCgt): its handlers are installed. */
async function catchesSignal(pid: number, number: number): Promise<void> {
  for (;;) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
    if ((mask >> BigInt(number - 1)) & 1n) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
