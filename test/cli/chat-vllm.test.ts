import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { FAKE_VLLM_PATH, TEST_PYTHON, readRecord, vllmChatArgs } from '../runners/vllm/helpers.js';
import { writeCachedSnapshot } from '../helpers/hf-cache.js';

/**
 * `chat --runtime vllm`: the built CLI drives the real vLLM runner (pythonia bridge, driver, engine loop) with
 * the test double of vLLM on PYTHONPATH. A model counts as downloaded for vLLM when its snapshot is complete
 * (`refs/main`, config.json and the safetensors: vllmSnapshotComplete in src/hub/runner-files.ts, asked by the
 * target resolver), so the snapshot here has them; the double never reads the weights.
 */
const MODEL = 'google/gemma-4-E2B-it';
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let recordFile: string;

beforeAll(() => {
  ({ env, cleanup } = isolatedEnv());
  recordFile = join(env.HOME ?? '', 'vllm-record.jsonl');
  Object.assign(env, {
    PYTHONPATH: FAKE_VLLM_PATH,
    ATOMR_INFER_PYTHON: TEST_PYTHON,
    FAKE_VLLM_RECORD_FILE: recordFile,
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in the source tree
  });
  writeCachedSnapshot(env.HF_HUB_CACHE ?? '', MODEL, {
    'config.json': '{"architectures":["Gemma4ForConditionalGeneration"]}',
    'model.safetensors': '',
  });
});
afterAll(() => cleanup());

function pidsSoFar(): number[] {
  return readRecord(recordFile)
    .filter((e) => e.event === 'engine_args')
    .map((e) => (e as unknown as { pid: number }).pid);
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false; // orphan zombie
  } catch {
    return true;
  }
}

describe('atomr-infer chat --runtime vllm', () => {
  it('streams the answer through the vLLM runner, only the answer on stdout, and exits promptly', async () => {
    const started = performance.now();
    const run = await runCli(vllmChatArgs(MODEL, '--ctx', '4096', '--prompt', 'hello from the cli'), {
      env,
      timeoutMs: 30_000,
    });
    const elapsed = performance.now() - started;
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('Echo: hello from the cli\n');
    // vLLM's own log lines go to stderr, never into the answer.
    expect(run.stderr).toContain(`INFO fake vLLM engine for ${MODEL} ready`);
    expect(elapsed).toBeLessThan(15_000);
    const [engineArgs] = readRecord(recordFile).filter((e) => e.event === 'engine_args');
    // The GPU budget the probe checked (ATOMR_INFER_GEMMA_GPU_UTIL, default 0.5), not vLLM's own 0.9.
    expect(engineArgs?.kwargs).toMatchObject({
      model: MODEL,
      max_model_len: 4096,
      gpu_memory_utilization: 0.5,
    });
    const [pid] = pidsSoFar();
    expect(gone(pid!)).toBe(true);
  });

  it('--think: the answer alone on stdout, the thought on stderr; --json gives thought events apart', async () => {
    const thinking = {
      ...env,
      FAKE_VLLM_ANSWER: '<|channel>thought\nThey greet me.<channel|>Hello back.',
    };
    const args = vllmChatArgs(MODEL, '--ctx', '4096', '--think', '--prompt', 'hi');
    const plain = await runCli(args, { env: thinking, timeoutMs: 30_000 });
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toBe('Hello back.\n');
    expect(plain.stderr).toContain('They greet me.');
    const json = await runCli([...args, '--json'], { env: thinking, timeoutMs: 30_000 });
    expect(json.exitCode).toBe(0);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string });
    const joined = (type: string) =>
      events
        .filter((event) => event.type === type)
        .map((event) => event.text)
        .join('');
    expect(joined('thought')).toBe('They greet me.');
    expect(joined('token')).toBe('Hello back.');
  });

  it('--json: token events, then a done event with the finish reason and usage', async () => {
    const run = await runCli(
      vllmChatArgs(MODEL, '--max-tokens', '2', '--json', '--prompt', 'one two three'),
      { env, timeoutMs: 30_000 },
    );
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { type: string; text?: string; finishReason?: string; runtime?: string },
      );
    const tokens = events.filter((e) => e.type === 'token').map((e) => e.text);
    expect(tokens.join('')).toBe('Echo: one');
    expect(events.at(-1)).toMatchObject({ type: 'done', runtime: 'vllm', finishReason: 'length' });
  });

  // A Python without vLLM, and one whose `import vllm` raises: stderr holds the one clear error and its hint only,
  // never the Python traceback behind it (ATOMR_INFER_DEBUG=1 shows that).
  it.each([
    ['vLLM is missing', { PYTHONPATH: '' }, /^atomr-infer: vLLM is not installed for /],
    [
      'importing vLLM raises',
      { FAKE_VLLM_IMPORT_ERROR: 'OSError:libcudart.so.12: cannot open shared object file' },
      /^atomr-infer: importing vLLM failed in .*OSError: libcudart\.so\.12/,
    ],
  ])('%s: only the clear error on stderr, no Python traceback', async (_case, extra, first) => {
    const run = await runCli(vllmChatArgs(MODEL, '--prompt', 'hi'), {
      env: { ...env, ...extra },
      timeoutMs: 30_000,
    });
    expect(run.exitCode).toBe(5);
    expect(run.stderr).not.toMatch(/Traceback|File ".*", line \d+/);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines.slice(1).every((line) => line.startsWith('hint: '))).toBe(true);
  });
});
