import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { writeMalformedGguf, writeTinyGguf } from '../helpers/gguf/index.mjs';

/** `atomr-infer serve` as a user runs it: the built CLI, a tiny GGUF, SIGTERM to stop. */

let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma3', seed: 11 });
});
afterAll(() => cleanup());

interface Serving {
  process: ResultPromise;
  url: string;
  stderr: () => string;
}

/** Starts `serve` on a free port and waits for its "serving" log line (JSON logs on a non-terminal stderr). */
async function serve(args: string[], extraEnv: Record<string, string> = {}): Promise<Serving> {
  const child = execa(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...env, ...extraEnv },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'serving' && entry.url) resolve(entry.url);
      }
    });
    void child.then((result) => reject(new Error(`serve exited early (${result.exitCode}): ${stderr}`)));
  });
  return { process: child, url, stderr: () => stderr };
}

describe('atomr-infer serve (CLI)', () => {
  it('refuses a network address without an API key before loading anything', async () => {
    const run = await runCli(['serve', '--host', '0.0.0.0', '--model', model], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('refusing to serve on 0.0.0.0 without an API key');
    expect(run.stderr).toContain('hint: set ATOMR_INFER_API_KEY');
  });

  it('a model that fails to load ends serve with exit 4 and one line, after /health said loading', async () => {
    const broken = await writeMalformedGguf({ kind: 'duplicate-token' });
    const run = await runCli(['serve', '--model', broken, '--port', '0', '--log-format', 'json'], { env });
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'))).toHaveLength(1);
    expect(run.stderr).toContain('"msg":"loading model"');
  });

  it.each([
    [['--port', 'http'], /--port "http" is not valid/],
    [['--parallel', '0'], /--parallel "0" is not valid/],
    [['--runtime', 'remote', '--model', 'm'], /--runtime remote needs --endpoint/],
    [['--runtime', 'remote', '--endpoint', 'ftp://x', '--model', 'm'], /--endpoint "ftp:\/\/x" is not valid/],
  ])('%j → exit 2 with one line', async (flags, message) => {
    const run = await runCli(['serve', ...flags], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('a served model as a remote runtime (CLI)', () => {
  const key = 'cli-serve-key-123456789';
  const name = 'tiny-gemma3-it.gguf';
  let origin: Serving;
  let clientEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    origin = await serve(['--model', model, '--threads', '1', '--parallel', '2'], {
      ATOMR_INFER_API_KEY: key,
    });
    clientEnv = { ...env, ATOMR_INFER_REMOTE_API_KEY: key };
  });

  afterAll(async () => {
    origin.process.kill('SIGTERM');
    await origin.process;
  });

  it('serves OpenAI clients, and a `serve --runtime remote` gateway forwards to it', async () => {
    const gateway = await serve(['--runtime', 'remote', '--endpoint', origin.url, '--model', name], {
      ATOMR_INFER_REMOTE_API_KEY: key,
    });
    try {
      const direct = new OpenAI({ baseURL: origin.url, apiKey: key, maxRetries: 0 });
      expect((await direct.models.list()).data.map((m) => m.id)).toEqual([name]);
      const request = {
        model: name,
        messages: [{ role: 'user' as const, content: 'hi' }],
        max_tokens: 9,
        temperature: 0,
      };
      const answer = await direct.chat.completions.create(request);
      expect(answer.usage!.completion_tokens).toBe(9);
      const viaGateway = new OpenAI({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
      const forwarded = await viaGateway.chat.completions.create(request);
      expect(forwarded.choices[0]!.message.content).toBe(answer.choices[0]!.message.content);
    } finally {
      gateway.process.kill('SIGTERM');
    }
    const result = await gateway.process;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    expect(gateway.stderr()).toContain('"msg":"stopped"');
    expect(gateway.stderr()).not.toContain(key);
  });

  it('chat --runtime remote answers through the endpoint', async () => {
    const args = ['chat', '--runtime', 'remote', '--endpoint', origin.url, '--model', name];
    const run = await runCli([...args, '--prompt', 'hi', '--max-tokens', '6', '--json'], { env: clientEnv });
    expect(run.exitCode).toBe(0);
    const done = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; usage?: { output: number } })
      .find((event) => event.type === 'done');
    expect(done?.usage?.output).toBe(6);
    const bad = await runCli([...args, '--prompt', 'hi'], { env });
    expect(bad.exitCode).toBe(5);
    expect(bad.stderr).toContain('requires an API key');
  });

  it('chat --runtime remote checks the endpoint before the prompt, as serve and bench do', async () => {
    // The endpoint does not serve this model: refused up front (exit 4) with what it does serve, nothing answered.
    const args = ['chat', '--runtime', 'remote', '--endpoint', origin.url, '--model', 'not-served'];
    const run = await runCli([...args, '--prompt', 'hi', '--max-tokens', '4'], { env: clientEnv });
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('model "not-served" is not served by');
  });

  it('provision --runtime remote registers a deployment that chat and bench then use', async () => {
    const provisioned = await runCli(
      ['provision', '--runtime', 'remote', '--endpoint', origin.url, '--model', name, '--json'],
      { env: clientEnv },
    );
    expect(provisioned.exitCode).toBe(0);
    const result = JSON.parse(provisioned.stdout) as { status: string; deployment: Record<string, unknown> };
    expect(result).toMatchObject({
      status: 'ready',
      deployment: { name: 'gemma-local', runtime: 'remote', model: name },
    });
    expect(JSON.stringify(result.deployment)).not.toContain(key);

    const chat = await runCli(['chat', '--prompt', 'hello', '--max-tokens', '4'], { env: clientEnv });
    expect(chat.exitCode).toBe(0);
    expect(chat.stdout.trim().length).toBeGreaterThan(0);

    // The deployment's name works as --model in chat too (one resolver for chat, serve and bench).
    const named = await runCli(['chat', '--model', 'gemma-local', '--prompt', 'hello', '--max-tokens', '4'], {
      env: clientEnv,
    });
    expect(named.exitCode).toBe(0);
    expect(named.stdout.trim().length).toBeGreaterThan(0);

    const bench = await runCli(
      [
        'bench',
        '--model',
        'gemma-local',
        '--concurrency',
        '2',
        '--requests',
        '2',
        '--max-tokens',
        '4',
        '--json',
      ],
      { env: clientEnv },
    );
    expect(bench.exitCode).toBe(0);
    const run = JSON.parse(bench.stdout) as {
      runtime: string;
      levels: { errors: number; outputTokens: number }[];
    };
    expect(run.runtime).toBe('remote');
    expect(run.levels[0]).toMatchObject({ errors: 0, outputTokens: 8 });
  });
});
