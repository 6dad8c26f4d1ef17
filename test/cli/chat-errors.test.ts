import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';

/** Errors `chat` reports before any model loads: one line, the right exit code, the next command to run. */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;

beforeAll(() => {
  ({ env, cleanup } = isolatedEnv());
});
afterAll(() => cleanup());

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'));
}

describe('atomr-infer chat: flag validation', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--max-tokens', '0'], /--max-tokens "0" is not valid: expected an integer from 1 to 1048576/],
    [['--temperature', '2.5'], /--temperature "2.5" is not valid: expected a number from 0 to 2/],
    [['--top-p', '0'], /--top-p "0" is not valid: expected a number greater than 0 and at most 1/],
    [['--top-k', '-3'], /--top-k "-3" is not valid: expected an integer from 0 \(off\) to 1000000/],
    [['--seed', '1.5'], /--seed "1.5" is not valid: expected an integer from 0 to 4294967295/],
    [
      ['--threads', 'many'],
      /--threads "many" is not valid: expected an integer from 1 to \d+ \(this process may use \d+ CPUs?\)/,
    ],
    [['--ctx', '12k'], /--ctx "12k" is not valid: expected a positive integer number of tokens/],
    [['--runtime', 'gpu'], /--runtime "gpu" is not valid: expected one of auto, vllm, llama-cpp/],
    [['--model', 'gemma-4-e2b-it'], /--model "gemma-4-e2b-it" is not valid: expected a supported model/],
  ];

  it.each(cases)(
    '%j → exit 2 with one line naming the flag, value and accepted range',
    async (flags, message) => {
      const run = await runCli(['chat', '--prompt', 'hi', ...flags], { env });
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toBe('');
      const lines = errorLines(run.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
    },
  );

  it('a mistyped model id suggests the closest supported one', async () => {
    const run = await runCli(['chat', '--prompt', 'hi', '--model', 'gemma-4-e2b-it'], { env });
    expect(run.stderr).toContain('hint: did you mean google/gemma-4-E2B-it?');
  });

  it('--json reports the error as one JSON object on stdout', async () => {
    const run = await runCli(['chat', '--prompt', 'hi', '--json', '--top-k', 'x'], { env });
    expect(run.exitCode).toBe(2);
    const payload = JSON.parse(run.stdout) as { error: { exitCode: number; message: string } };
    expect(payload.error.exitCode).toBe(2);
    expect(payload.error.message).toContain('--top-k "x"');
  });

  it('an empty piped prompt is a usage error', async () => {
    const run = await runCli(['chat'], { env, input: '  \n' });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)[0]).toContain('no prompt: stdin was empty');
  });

  it('--runtime vllm cannot load a GGUF file', async () => {
    const run = await runCli(['chat', '--prompt', 'hi', '--runtime', 'vllm', '--model', './model.gguf'], {
      env,
    });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)[0]).toContain('--runtime vllm cannot load a GGUF file');
  });
});

describe('atomr-infer chat: missing models and deployments', () => {
  // These run with HF_HUB_OFFLINE=1 (isolatedEnv): a model not cached cannot be downloaded on demand
  // (test/cli/download-on-demand.test.ts covers the download itself).
  it('a model whose weights are not cached, offline → exit 4 naming HF_HUB_OFFLINE and the command that fetches them', async () => {
    const run = await runCli(['chat', '--prompt', 'hi', '--model', 'google/gemma-4-E2B-it'], { env });
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toBe('');
    expect(errorLines(run.stderr)).toEqual([
      expect.stringMatching(/ggml-org\/gemma-4-E2B-it-GGUF is not in the cache .* HF_HUB_OFFLINE=1 forbids/),
    ]);
    expect(run.stderr).toContain('`atomr-infer pull --model google/gemma-4-E2B-it --runtime llama-cpp`');
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('a vLLM model whose weights are not cached, offline → exit 4 with the pull hint', async () => {
    const run = await runCli(['chat', '-p', 'hi', '--model', 'google/gemma-4-E4B-it', '--runtime', 'vllm'], {
      env,
    });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain('atomr-infer pull --model google/gemma-4-E4B-it');
  });

  it('a .gguf path that does not exist → exit 4', async () => {
    const run = await runCli(['chat', '--prompt', 'hi', '--model', '/nonexistent/tiny.gguf'], { env });
    expect(run.exitCode).toBe(4);
    expect(errorLines(run.stderr)[0]).toContain('"/nonexistent/tiny.gguf": no such file');
  });

  it('without --model, no deployment and auto-provisioning off → exit 3, hint `atomr-infer provision`', async () => {
    const run = await runCli(['chat', '--prompt', 'hi'], { env: { ...env, ATOMR_INFER_GEMMA_AUTO: 'off' } });
    expect(run.exitCode).toBe(3);
    expect(errorLines(run.stderr)[0]).toContain('no deployment named "gemma-local"');
    expect(run.stderr).toMatch(/hint: .*`atomr-infer provision`/);
  });

  it('ATOMR_INFER_GEMMA_DEPLOYMENT names the deployment looked up', async () => {
    const run = await runCli(['chat', '--prompt', 'hi'], {
      env: { ...env, ATOMR_INFER_GEMMA_AUTO: 'off', ATOMR_INFER_GEMMA_DEPLOYMENT: 'mine' },
    });
    expect(errorLines(run.stderr)[0]).toContain('no deployment named "mine"');
  });

  it('a corrupt deployment file is reported and left untouched', async () => {
    const { env: own, cleanup: done } = isolatedEnv();
    try {
      const state = own.ATOMR_INFER_HOME as string;
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, 'deployments.json'), '{not json');
      const run = await runCli(['chat', '--prompt', 'hi'], { env: own });
      expect(run.exitCode).toBe(2);
      expect(errorLines(run.stderr)[0]).toContain('is corrupt');
    } finally {
      done();
    }
  });
});
