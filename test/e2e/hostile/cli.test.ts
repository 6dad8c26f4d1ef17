import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { usableCpuCount } from '../../../src/core/cpu-threads.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * Hostile and unlucky input to `chat` / `serve` / `bench` (issue 9, the CLI and llama.cpp runner items): the
 * built CLI, tiny generated GGUFs, no network. Each case asserts what a user sees — the exit code, the one line
 * on stderr, the answer's end — never how long it took (a hang fails by the spawn's timeout instead).
 */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma4', seed: 31, endOfTurn: 'never' });
});
afterAll(() => cleanup());

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'));
}

const STACK_TRACE = /\bat .+:\d+:\d+/;

/** `chat` on the tiny model with one thread, then `rest`. */
const chatArgs = (...rest: string[]): string[] => ['chat', '--model', model, '--threads', '1', ...rest];

interface DoneEvent {
  type: 'done';
  finishReason: string;
  contextFull: boolean;
  usage: { input: number; output: number; cached: number } | null;
}

function doneEvent(stdout: string): DoneEvent {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as DoneEvent;
}

describe('item 2: max tokens beyond the context', () => {
  it('chat --max-tokens 1048576 --ctx 64 ends with length once the context is full, and --json says why', async () => {
    const run = await runCli(chatArgs('--max-tokens', '1048576', '--ctx', '64', '--json', '-p', 'hi'), {
      env,
      timeoutMs: 120_000,
    });
    expect(run.exitCode).toBe(0);
    const done = doneEvent(run.stdout);
    expect(done).toMatchObject({ type: 'done', finishReason: 'length', contextFull: true });
    // llama.cpp rounds a context up to a multiple of 256 tokens: 64 becomes 256.
    expect((done.usage?.input ?? 0) + (done.usage?.output ?? 0)).toBeLessThanOrEqual(256);
  });

  it('plain mode: the answer on stdout, one note on stderr naming the full context', async () => {
    const run = await runCli(chatArgs('--max-tokens', '1048576', '--ctx', '256', '-p', 'hi'), {
      env,
      timeoutMs: 120_000,
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(errorLines(run.stderr)).toEqual([
      'atomr-infer: the answer stopped because the 256-token context is full (prompt + answer); a larger --ctx makes room',
    ]);
  });

  it('--max-tokens within the context: finish reason length, contextFull false, no note', async () => {
    const run = await runCli(chatArgs('--max-tokens', '5', '--json', '-p', 'hi'), { env });
    expect(run.exitCode).toBe(0);
    expect(doneEvent(run.stdout)).toMatchObject({ finishReason: 'length', contextFull: false });
    expect(run.stderr).toBe('');
  });

  it('chat --help says an answer also stops when the context is full', async () => {
    const run = await runCli(['chat', '--help'], { env });
    expect(run.stdout.replace(/\s+/g, ' ')).toContain(
      'an answer also stops when prompt + answer fill the context (--ctx)',
    );
  });

  it('a prompt that alone does not fit the context: exit 2, one line naming both sizes', async () => {
    const run = await runCli(chatArgs('--ctx', '256', '-p', 'word '.repeat(600)), { env });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(errorLines(run.stderr)).toEqual([
      expect.stringMatching(
        /^atomr-infer: the prompt needs \d+ tokens; the 256-token context holds at most 231 with room for an answer$/,
      ),
    ]);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('item 6: CI and NODE_LLAMA_CPP_* values node-llama-cpp would choke on', () => {
  it.each(['yes', '', 'maybe', 'woodpecker', 'TRUE', '0'])(
    'CI=%j: chat answers (exit 0, no stack trace)',
    async (ci) => {
      const run = await runCli(chatArgs('--max-tokens', '3', '-p', 'hi'), {
        env: { ...env, CI: ci },
      });
      expect(run.stderr).not.toMatch(/EnvVarError|unexpected error/);
      expect(run.exitCode).toBe(0);
      expect(run.stdout.trim().length).toBeGreaterThan(0);
    },
  );

  it('CI=yes: bench runs to its table', async () => {
    const run = await runCli(
      [
        'bench',
        '--model',
        model,
        '--threads',
        '1',
        '--concurrency',
        '1',
        '--requests',
        '1',
        '--max-tokens',
        '3',
      ],
      { env: { ...env, CI: 'yes' }, timeoutMs: 120_000 },
    );
    expect(run.stderr).not.toMatch(/EnvVarError|unexpected error/);
    expect(run.exitCode).toBe(0);
  });

  it.each([
    ['NODE_LLAMA_CPP_GPU', 'bogus'],
    ['NODE_LLAMA_CPP_DEBUG', 'maybe'],
    ['NODE_LLAMA_CPP_LOG_LEVEL', 'loud'],
  ])('%s=%j: exit 2, one line naming the variable and what it accepts', async (name, value) => {
    const run = await runCli(chatArgs('--max-tokens', '3', '-p', 'hi'), {
      env: { ...env, [name]: value },
    });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^atomr-infer: ${name}="${value}" is not valid: node-llama-cpp accepts `),
    );
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it('a blank NODE_LLAMA_CPP_* value counts as unset, as every atomr-infer variable does', async () => {
    const run = await runCli(chatArgs('--max-tokens', '3', '-p', 'hi'), {
      env: { ...env, NODE_LLAMA_CPP_GPU: ' ', NODE_LLAMA_CPP_DEBUG: '' },
    });
    expect(run.exitCode).toBe(0);
  });
});

describe('item 5: more threads than CPUs', () => {
  const usable = usableCpuCount();
  const tooMany = String(Math.max(usable + 1, 256));

  it.each([
    ['chat', ['-p', 'hi']],
    ['serve', ['--port', '0']],
    ['bench', ['--concurrency', '1', '--requests', '1']],
  ])(
    '%s --threads %s is refused before anything loads: exit 2, one line naming the usable CPUs',
    async (command, extra) => {
      const run = await runCli([command, '--model', model, '--threads', tooMany, ...extra], { env });
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toBe('');
      expect(errorLines(run.stderr)).toEqual([
        `atomr-infer: --threads "${tooMany}" is not valid: expected an integer from 1 to ${usable} (this process may use ${usable} CPU${usable === 1 ? '' : 's'})`,
      ]);
      expect(run.stderr).toMatch(/^hint: more threads than CPUs stall llama\.cpp/m);
    },
  );

  it('--threads at the usable CPU count is accepted and answers', async () => {
    const run = await runCli(
      ['chat', '--model', model, '--threads', String(usable), '--max-tokens', '3', '-p', 'hi'],
      { env },
    );
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
  });
});

describe('item 14a: --model that is a directory or a FIFO', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomr-hostile-model-'));
    mkdirSync(join(dir, 'folder.gguf'));
    mkdirSync(join(dir, 'plain-folder'));
    execFileSync('mkfifo', [join(dir, 'pipe.gguf'), join(dir, 'pipe')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['folder.gguf', 'is a directory'],
    ['plain-folder', 'is a directory'],
    ['pipe.gguf', 'is a FIFO (named pipe)'],
    ['pipe', 'is a FIFO (named pipe)'],
  ])(
    'chat --model %s: exit 4, one line saying what it is and what is accepted (never opened)',
    async (name, what) => {
      const path = join(dir, name);
      const run = await runCli(['chat', '--model', path, '-p', 'hi'], { env });
      expect(run.exitCode).toBe(4);
      expect(errorLines(run.stderr)).toEqual([
        `atomr-infer: --model ${JSON.stringify(path)} ${what}, not a regular file: expected a .gguf file or a catalog model id`,
      ]);
      expect(run.stderr).not.toContain('no such file');
    },
  );

  it('serve --model <a FIFO> is refused the same way', async () => {
    const path = join(dir, 'pipe.gguf');
    const run = await runCli(['serve', '--model', path, '--port', '0'], { env });
    expect(run.exitCode).toBe(4);
    expect(errorLines(run.stderr)[0]).toContain('is a FIFO (named pipe), not a regular file');
  });

  it('ATOMR_INFER_GEMMA_GGUF naming a FIFO is refused before anything opens it', async () => {
    const path = join(dir, 'pipe.gguf');
    const run = await runCli(['chat', '--model', 'google/gemma-4-E2B-it', '-p', 'hi'], {
      env: { ...env, ATOMR_INFER_GEMMA_GGUF: path },
    });
    expect(run.exitCode).toBe(4);
    expect(errorLines(run.stderr)).toEqual([
      `atomr-infer: model file ${path} is a FIFO (named pipe), not a regular file: expected a .gguf file`,
    ]);
  });

  it('a missing .gguf path still says "no such file"', async () => {
    const run = await runCli(['chat', '--model', join(dir, 'absent.gguf'), '-p', 'hi'], { env });
    expect(run.exitCode).toBe(4);
    expect(errorLines(run.stderr)[0]).toContain('absent.gguf": no such file');
  });
});

describe('item 14b: a short API key is refused without being revealed', () => {
  it('ATOMR_INFER_API_KEY=short: exit 2, the message intact (no "***" where the word "short" was)', async () => {
    const run = await runCli(['serve', '--model', model, '--port', '0'], {
      env: { ...env, ATOMR_INFER_API_KEY: 'short' },
    });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([
      'atomr-infer: ATOMR_INFER_API_KEY is too short: expected at least 8 characters',
    ]);
  });

  it('serve --api-key short: the same, naming the flag', async () => {
    const run = await runCli(['serve', '--model', model, '--port', '0', '--api-key', 'short'], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([
      'atomr-infer: --api-key is too short: expected at least 8 characters',
    ]);
  });
});

describe('item 14c: a blank prompt is quoted as given', () => {
  it('chat -p "   ": exit 2, the message shows the blank prompt, not --prompt ""', async () => {
    const run = await runCli(['chat', '--model', model, '-p', '   '], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)[0]).toBe(
      'atomr-infer: --prompt "   " is not valid: expected a prompt with some text',
    );
  });

  it('bench --prompt "\\t": the same rule', async () => {
    const run = await runCli(['bench', '--model', model, '--prompt', '\t'], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)[0]).toBe(
      'atomr-infer: --prompt "\\t" is not valid: expected a prompt with some text',
    );
  });
});
