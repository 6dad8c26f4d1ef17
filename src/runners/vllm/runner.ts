import { forcedCallOf, type ForcedCall } from '../../core/tool-calls.js';
import { basename, dirname } from 'node:path';
import { getVariant, isVariantId } from '../../core/catalog.js';
import { RuntimeFailure, runnerDisposed } from '../../core/errors.js';
import type { MediaKind } from '../../core/media.js';
import type {
  ExecuteBatch,
  ExecuteOptions,
  ModelRunner,
  RunnerDescription,
  RunnerSpec,
  SessionRebuildCause,
  TokenChunk,
  TransportKind,
  WeightSource,
} from '../../core/model-runner.js';
import { type VllmRunnerSettings, engineKwargs, engineModel } from './config.js';
import { type AddCommand, type LaunchInfo, launchError, parseLaunch } from './driver-protocol.js';
import { EngineLoop, type EngineLoopStats } from './engine-loop.js';
import { AnswerReader, addCommand } from './request.js';
import { resolvePythonInterpreter } from './interpreter.js';
import { type BridgeLease, acquireBridge } from './python-bridge.js';

interface EngineSession {
  lease: BridgeLease;
  engineId: string;
  loop: EngineLoop;
  info: LaunchInfo;
  unsubscribe: () => void;
}

/** A final `length` chunk whose prompt + answer reached max_model_len: the context, not max_tokens, ended it. */
function filledContext(chunk: TokenChunk, contextSize: number): boolean {
  if (chunk.finishReason !== 'length' || !chunk.usage) return false;
  return chunk.usage.input + chunk.usage.output >= contextSize;
}

/** HF_HUB_CACHE (and HF_HOME when the cache is `<home>/hub`), set in Python before vLLM is imported. */
function hubEnvironment(hfCacheDir: string | undefined): Record<string, string> {
  if (!hfCacheDir) return {};
  const env: Record<string, string> = { HF_HUB_CACHE: hfCacheDir };
  if (basename(hfCacheDir) === 'hub' && !process.env.HF_HOME) env.HF_HOME = dirname(hfCacheDir);
  return env;
}

/**
 * vLLM's engine, in-process in one Python interpreter driven through pythonia. The engine starts on the first
 * request (or loadWeights) and stays up; a crash fails the requests in flight and the next request starts a fresh
 * engine (the session is "poisoned" until then).
 */
export class VllmRunner implements ModelRunner {
  readonly runtimeKind = 'vllm' as const;
  readonly gilPinned = true;
  private weights: WeightSource;
  private session: Promise<EngineSession> | undefined;
  private live: EngineSession | undefined;
  private readonly leases = new Set<BridgeLease>();
  /** Bumped by every teardown: a launch that finishes after one is discarded. */
  private generation = 0;
  private info: LaunchInfo | undefined;
  private disposed = false;
  private readonly totals: EngineLoopStats = { calls: 0, engineSteps: 0, callMs: 0, pyMs: 0 };

  constructor(
    private readonly spec: RunnerSpec,
    private readonly settings: VllmRunnerSettings,
  ) {
    this.weights = spec.weights;
  }

  get transportKind(): TransportKind {
    return { kind: 'local-gpu', device: this.deviceLabel() };
  }

  async *execute(batch: ExecuteBatch, options: ExecuteOptions = {}): AsyncGenerator<TokenChunk> {
    // A forced call (required, or a named function) is decoded under the call's JSON schema (core/tool-calls.ts).
    const forced = forcedCallOf(batch);
    const command = this.toCommand(batch, forced);
    const { signal } = options;
    const aborted: TokenChunk = {
      requestId: batch.requestId,
      textDelta: '',
      finishReason: 'abort',
      usage: { input: 0, output: 0, cached: 0 },
    };
    if (signal?.aborted) {
      yield aborted;
      return;
    }
    const session = await this.ensureSession();
    if (signal?.aborted) {
      yield aborted;
      return;
    }
    // vLLM itself ends an answer with `length` when prompt + answer reach max_model_len; capping max_tokens there
    // too keeps an absurd value (1e12) from ever reaching the engine, as the llama.cpp runner does.
    const contextSize = this.contextSize();
    const requested = command.sampling.max_tokens;
    if (contextSize !== undefined && typeof requested === 'number' && requested > contextSize) {
      command.sampling.max_tokens = contextSize;
    }
    const stream = session.loop.submit(command);
    const onAbort = (): void => stream.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    // Thinking, tools or a forced call: the raw text carries more than the answer (request.ts).
    const reader = AnswerReader.for(batch, forced);
    try {
      for (;;) {
        const raw = await stream.next();
        if (!raw) return;
        const chunk = reader ? reader.read(raw) : raw;
        yield contextSize !== undefined && filledContext(chunk, contextSize)
          ? { ...chunk, contextFull: true }
          : chunk;
        if (chunk.finishReason !== undefined) return;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream.cancel(); // no-op once finished; otherwise the consumer left early: abort at the next step
    }
  }

  async loadWeights(source: WeightSource): Promise<void> {
    const current = engineModel({ ...this.spec, weights: this.weights }, this.settings.config);
    const next = engineModel(
      { ...this.spec, weights: source },
      { ...this.settings.config, model: undefined },
    );
    this.weights = source;
    this.settings.config.model = undefined;
    if (current.model !== next.model || current.revision !== next.revision) await this.teardown();
    await this.ensureSession();
  }

  /** Starts Python and the engine now rather than on the first request (createRunner wants a ready runner). */
  async start(): Promise<void> {
    await this.ensureSession();
  }

  /** Tears the engine (and, when no other runner shares it, the interpreter) down; the next request relaunches. */
  async rebuildSession(_cause: SessionRebuildCause): Promise<void> {
    await this.teardown();
  }

  rateLimits(): undefined {
    return undefined;
  }

  estimateCostUsd(): number {
    return 0;
  }

  describe(): RunnerDescription {
    const description: RunnerDescription = {
      model: this.spec.model,
      runtime: 'vllm',
      device: this.deviceLabel(),
      mode: this.defaultMode(),
      media: this.mediaAccepted(),
    };
    const contextSize = this.contextSize();
    if (contextSize) description.contextSize = contextSize;
    return description;
  }

  /** max_model_len: what the engine reported, else what it was configured with; undefined when unknown. */
  private contextSize(): number | undefined {
    return (this.info?.maxModelLen ?? this.settings.config.maxModelLen) || undefined;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.teardown();
  }

  /** Bridge/engine counters summed over this runner's engines (for benchmarks and diagnostics). */
  stats(): EngineLoopStats & { bridgeCalls: number } {
    const loop = this.live?.loop.stats ?? { calls: 0, engineSteps: 0, callMs: 0, pyMs: 0 };
    return {
      calls: this.totals.calls + loop.calls,
      engineSteps: this.totals.engineSteps + loop.engineSteps,
      callMs: this.totals.callMs + loop.callMs,
      pyMs: this.totals.pyMs + loop.pyMs,
      bridgeCalls: this.live?.lease.calls() ?? 0,
    };
  }

  private deviceLabel(): string {
    const parts = ['CUDA'];
    if (this.info?.device) parts.push(this.info.device);
    parts.push(this.info ? `vLLM ${this.info.vllmVersion}` : 'vLLM');
    return parts.join(' · ');
  }

  private defaultMode(): 'chat' | 'completion' {
    if (isVariantId(this.spec.model))
      return getVariant(this.spec.model).instructionTuned ? 'chat' : 'completion';
    return 'chat';
  }

  /**
   * Images and audio, unless the engine was started text-only (`limitMmPerPrompt` 0 for that modality, which
   * also spares the encoders' start-up profiling) or serves a base model (plain completion, no template).
   */
  private mediaAccepted(): MediaKind[] {
    if (this.defaultMode() === 'completion') return [];
    const limits = this.settings.config.limitMmPerPrompt ?? {};
    return (['image', 'audio'] as const).filter((kind) => limits[kind] !== 0);
  }

  private toCommand(batch: ExecuteBatch, forced: ForcedCall | undefined): AddCommand {
    if (this.disposed) throw runnerDisposed('vLLM');
    return addCommand(batch, batch.mode ?? this.defaultMode(), forced, this.mediaAccepted());
  }

  private ensureSession(): Promise<EngineSession> {
    if (this.disposed) {
      return Promise.reject(runnerDisposed('vLLM'));
    }
    if (!this.session) {
      const launching = this.launch();
      this.session = launching;
      launching.catch(() => {
        if (this.session === launching) this.session = undefined; // a failed start is retried next time
      });
    }
    return this.session;
  }

  private async launch(): Promise<EngineSession> {
    const generation = this.generation;
    const python = resolvePythonInterpreter(this.settings.python);
    const lease = await acquireBridge({ python, logs: this.settings.engineLogs });
    this.leases.add(lease);
    const superseded = (): RuntimeFailure =>
      new RuntimeFailure('the vLLM engine was shut down while starting', { code: 'engine-closed' });
    try {
      if (generation !== this.generation) throw superseded();
      const { model, revision } = engineModel({ ...this.spec, weights: this.weights }, this.settings.config);
      const request = {
        engineArgs: engineKwargs(this.settings.config, model, revision),
        env: hubEnvironment(this.settings.config.hfCacheDir),
      };
      const launched = parseLaunch(await lease.call('launch', JSON.stringify(request)));
      if (!launched.ok) throw launchError(launched.error, python, model);
      const { ok: _ok, ...info } = launched;
      if (generation !== this.generation) {
        await lease.call('close', info.engineId).catch(() => undefined);
        throw superseded();
      }
      const session: EngineSession = {
        lease,
        engineId: info.engineId,
        info,
        loop: new EngineLoop((commands) => lease.call('step', info.engineId, commands)),
        unsubscribe: () => undefined,
      };
      session.unsubscribe = lease.onDeath((error) => this.onEngineDeath(session, error));
      this.info = info;
      this.live = session;
      return session;
    } catch (error) {
      this.leases.delete(lease);
      await lease.release();
      throw error;
    }
  }

  /** The interpreter died: fail what was in flight and let the next request start a fresh engine. */
  private onEngineDeath(session: EngineSession, error: RuntimeFailure): void {
    session.loop.fail(error);
    this.retire(session);
    if (this.live === session) {
      this.live = undefined;
      this.session = undefined;
    }
    this.leases.delete(session.lease);
    void session.lease.release();
  }

  private retire(session: EngineSession): void {
    session.unsubscribe();
    for (const key of Object.keys(this.totals) as (keyof EngineLoopStats)[]) {
      this.totals[key] += session.loop.stats[key];
    }
  }

  private async teardown(): Promise<void> {
    this.generation++;
    const session = this.live;
    this.live = undefined;
    this.session = undefined;
    if (session) {
      this.retire(session);
      session.loop.close();
      // Another runner keeps the interpreter: free this engine inside it. Otherwise the whole process goes,
      // the only way vLLM reliably hands its GPU memory back.
      if (session.lease.shared()) await session.lease.call('close', session.engineId).catch(() => undefined);
    }
    const leases = [...this.leases];
    this.leases.clear();
    await Promise.all(leases.map((lease) => lease.release()));
  }
}
