import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelError, RuntimeFailure } from '../../../src/core/errors.js';
import type { ModelRunner } from '../../../src/core/model-runner.js';
import { TEST_PYTHON, chat, collect, makeRunner, readRecord, useFakeVllm, type FakeEnv } from './helpers.js';

// pythonia reads its request timeout (default 100 s) when it loads; make it short enough that a call relying on
// it would fail below. The runner must not: an engine start takes minutes on a real GPU.
process.env.REQ_TIMEOUT = '300';

let env: FakeEnv | undefined;
let runner: ModelRunner | undefined;
afterEach(async () => {
  await runner?.dispose();
  runner = undefined;
  env?.restore();
  env = undefined;
});

async function startError(): Promise<RuntimeFailure | ModelError> {
  if (!runner) throw new Error('no runner');
  try {
    await collect(runner.execute(chat('r1', 'hi')));
  } catch (error) {
    return error as RuntimeFailure;
  }
  throw new Error('expected the engine start to fail');
}

describe('engine start', () => {
  it('hands EngineArgs exactly the configured fields, and nothing unset', async () => {
    env = useFakeVllm();
    runner = await makeRunner({
      gpuMemoryUtilization: 0.42,
      maxModelLen: 2048,
      enforceEager: true,
      maxNumSeqs: 4,
    });
    await collect(runner.execute(chat('r1', 'hi')));
    const engineArgs = readRecord(env.recordFile).filter((e) => e.event === 'engine_args');
    expect(engineArgs).toHaveLength(1);
    expect(engineArgs[0]?.kwargs).toEqual({
      model: 'google/gemma-4-E2B-it',
      tensor_parallel_size: 1,
      dtype: 'auto',
      gpu_memory_utilization: 0.42,
      max_model_len: 2048,
      enforce_eager: true,
      max_num_seqs: 4,
    });
    expect(runner.describe()).toMatchObject({
      device: 'CUDA · vLLM 0.0.0+fake',
      contextSize: 2048,
      mode: 'chat',
    });
    expect(runner.transportKind).toEqual({ kind: 'local-gpu', device: 'CUDA · vLLM 0.0.0+fake' });
    expect(runner.gilPinned).toBe(true);
  });

  it('sets HF_HOME/HF_HUB_CACHE before vLLM is imported, logs to stderr, and an absolute PYTHON_BIN', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'atomr-hf-'));
    env = useFakeVllm({
      HF_HOME: undefined,
      HF_HUB_CACHE: undefined,
      VLLM_WORKER_MULTIPROC_METHOD: undefined,
    });
    try {
      runner = await makeRunner({ hfCacheDir: join(cache, 'hub'), python: 'python3' });
      await collect(runner.execute(chat('r1', 'hi')));
      const [engineArgs] = readRecord(env.recordFile).filter((e) => e.event === 'engine_args');
      const seen = (engineArgs as unknown as { env_at_import: Record<string, string | null> }).env_at_import;
      expect(seen.HF_HUB_CACHE).toBe(join(cache, 'hub'));
      expect(seen.HF_HOME).toBe(cache);
      expect(seen.VLLM_LOGGING_STREAM).toBe('ext://sys.stderr');
      expect(seen.VLLM_WORKER_MULTIPROC_METHOD).toBe('spawn');
      expect(seen.PYTHON_BIN).toMatch(/^\/.*python3$/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("lets vLLM's spawn-started workers run under the bridge", async () => {
    env = useFakeVllm({ FAKE_VLLM_SPAWN_WORKER: '1', VLLM_WORKER_MULTIPROC_METHOD: undefined });
    runner = await makeRunner();
    const { text } = await collect(runner.execute(chat('r1', 'still works')));
    expect(text).toBe('Echo: still works');
    expect(readRecord(env.recordFile).filter((e) => e.event === 'worker_spawned')).toEqual([
      { event: 'worker_spawned', method: 'spawn' },
    ]);
  });

  it('waits out a slow engine start (no bridge timeout cuts it off)', async () => {
    env = useFakeVllm({ FAKE_VLLM_LOAD_DELAY_MS: '1200', FAKE_VLLM_STEP_DELAY_MS: '400' });
    runner = await makeRunner();
    const { text } = await collect(runner.execute(chat('r1', 'patience')));
    expect(text).toBe('Echo: patience');
  });

  it('reports a missing vLLM with the pip command for the interpreter in use', async () => {
    const probe = spawnSync(TEST_PYTHON, ['-c', 'import vllm'], { env: { ...process.env, PYTHONPATH: '' } });
    if (probe.status === 0) return; // a real vLLM is installed here: nothing to prove
    env = useFakeVllm({}, false);
    runner = await makeRunner({ python: 'python3' });
    const error = await startError();
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error.code).toBe('vllm-missing');
    expect(error.message).toMatch(/^vLLM is not installed for \/.*python3$/);
    expect(error.hint).toMatch(/^install it with: \/.*python3 -m pip install vllm/);
  });

  it('reports a vLLM whose import raises, with its reason and the pip hint', async () => {
    env = useFakeVllm({ FAKE_VLLM_IMPORT_ERROR: 'OSError:libcudart.so.12: cannot open shared object file' });
    runner = await makeRunner();
    const error = await startError();
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error.code).toBe('vllm-import-failed');
    expect(error.message).toMatch(/importing vLLM failed in \/.*: OSError: libcudart\.so\.12: cannot open/);
    expect(error.hint).toMatch(/-m pip install --upgrade vllm/);
    expect(error.exitCode).toBe(5);
  });

  it('reports weights vLLM cannot fetch as a model error (exit 4)', async () => {
    env = useFakeVllm({
      FAKE_VLLM_LOAD_ERROR: 'RepositoryNotFoundError:404 Client Error: Repository Not Found',
    });
    runner = await makeRunner();
    const error = await startError();
    expect(error).toBeInstanceOf(ModelError);
    expect(error.message).toBe(
      'vLLM could not load google/gemma-4-E2B-it: RepositoryNotFoundError: 404 Client Error: Repository Not Found',
    );
    expect(error.exitCode).toBe(4);
  });

  it('retries the start on the next request after a failed one', async () => {
    env = useFakeVllm({ FAKE_VLLM_LOAD_ERROR: 'RuntimeError:CUDA driver initialization failed' });
    runner = await makeRunner();
    const error = await startError();
    expect(error.code).toBe('vllm-engine');
    delete process.env.FAKE_VLLM_LOAD_ERROR;
    const { text } = await collect(runner.execute(chat('r2', 'second try')));
    expect(text).toBe('Echo: second try');
  });

  it('names a missing interpreter', async () => {
    env = useFakeVllm();
    runner = await makeRunner({ python: 'python-does-not-exist' });
    const error = await startError();
    expect(error.code).toBe('python-missing');
    expect(error.message).toBe('Python interpreter "python-does-not-exist" was not found on PATH');
  });
});
