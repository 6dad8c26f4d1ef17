import { AtomrError, ModelError, RuntimeFailure, runnerDisposed } from '../../core/errors.js';
import type {
  ExecuteBatch,
  ExecuteOptions,
  FinishReason,
  ModelRunner,
  RateLimits,
  RunnerDescription,
  RunnerSpec,
  SessionRebuildCause,
  TokenChunk,
  TokenUsage,
  TransportKind,
  WeightSource,
} from '../../core/model-runner.js';
import { redactSecrets } from '../../core/secrets.js';
import {
  describeBody,
  formatSeconds,
  hostOf,
  isTimeoutError,
  readWithIdleTimeout,
  type BodyText,
} from '../../core/http-timeouts.js';
import { RemoteAborted, readSmallBody, send } from './http.js';
import { ToolCallAssembler, decodeChunk, estimatePromptTokens, requestBody } from './openai-wire.js';
import { RateLimiter, type Permit } from './rate-limiter.js';
import { parseRemoteSettings, type RemoteSettings } from './settings.js';
import { readSseEvents } from './sse.js';

/**
 * A ModelRunner over any OpenAI-compatible endpoint (vLLM `serve`, a vLLM cluster behind a load balancer,
 * `atomr-infer serve`, a hosted API). Always streams from the endpoint, so aborting stops the server's work
 * (the connection closes) and the first token arrives as soon as the server has it.
 */

export interface RemoteRunnerOptions {
  env?: NodeJS.ProcessEnv;
  /** The rate limiter's sliding window (tests shorten the minute). */
  rateWindowMs?: number;
  onRetry?: (info: { retry: number; delayMs: number; reason: string }) => void;
}

export class RemoteRunner implements ModelRunner {
  readonly runtimeKind = 'remote' as const;
  readonly gilPinned = false;
  private settings: RemoteSettings;
  private apiKey: string | undefined;
  private readonly limiter: RateLimiter;
  private disposed = false;
  private readonly live = new Set<AbortController>();

  constructor(
    private readonly spec: RunnerSpec,
    private readonly options: RemoteRunnerOptions = {},
  ) {
    const parsed = parseRemoteSettings(spec.settings, spec.model, options.env);
    this.settings = parsed.settings;
    this.apiKey = parsed.apiKey;
    this.limiter = new RateLimiter(this.settings.limits, optionalWindow(options.rateWindowMs));
  }

  get transportKind(): TransportKind {
    return { kind: 'remote-network', provider: this.settings.provider, endpoint: this.settings.endpoint };
  }

  rateLimits(): RateLimits {
    return { ...this.settings.limits };
  }

  estimateCostUsd(batch: ExecuteBatch): number {
    const { inputUsdPerMillionTokens, outputUsdPerMillionTokens } = this.settings.prices;
    const input = estimatePromptTokens(batch.messages);
    const output = batch.sampling.maxTokens ?? this.settings.defaultMaxTokens;
    return (input * inputUsdPerMillionTokens + output * outputUsdPerMillionTokens) / 1_000_000;
  }

  describe(): RunnerDescription {
    return {
      model: this.settings.model,
      runtime: 'remote',
      device: `remote · ${this.settings.endpoint}`,
      mode: this.settings.mode,
      // Passed through unchanged: whether the model behind the endpoint takes them is the endpoint's to say.
      media: this.settings.mode === 'chat' ? ['image', 'audio'] : [],
    };
  }

  /**
   * Nothing to load: checks that the endpoint answers, accepts the key and serves the model, so a wrong URL or
   * key fails before the first prompt. Endpoints without `/models` (404) are accepted as they are; a `/models`
   * that answers something other than an OpenAI model list (an HTML page, a status JSON) is not an
   * OpenAI-compatible API, and fails here rather than at the first prompt.
   */
  async loadWeights(_source: WeightSource): Promise<void> {
    this.assertUsable();
    const controller = new AbortController();
    let response: Response;
    try {
      response = await send({ ...this.request('/models', 'GET'), signal: controller.signal });
    } catch (error) {
      if (error instanceof RuntimeFailure && error.code === 'remote-not-found') return;
      throw error;
    }
    const ids = await this.servedModels(response);
    if (ids.length > 0 && !ids.includes(this.settings.model)) {
      throw new ModelError(`model "${this.settings.model}" is not served by ${this.settings.endpoint}`, {
        code: 'remote-model-not-found',
        hint: `it serves: ${ids
          .slice(0, 10)
          .map((id) => redactSecrets(id))
          .join(', ')}`,
      });
    }
  }

  /** The ids of an OpenAI model list (`{"object":"list","data":[{"id":…},…]}`); anything else is an error. */
  private async servedModels(response: Response): Promise<string[]> {
    const url = `${this.settings.endpoint}/models`;
    let body: BodyText;
    try {
      body = await readSmallBody(response, this.settings, MAX_MODEL_LIST_BYTES);
    } catch (error) {
      if (!isTimeoutError(error)) throw error;
      throw new RuntimeFailure(`${url} sent its headers, then ${redactSecrets((error as Error).message)}`, {
        code: 'remote-timeout',
        hint: 'check the endpoint; on a slow link raise ATOMR_INFER_REMOTE_TIMEOUT (seconds)',
      });
    }
    let listing: unknown;
    try {
      listing = body.complete ? JSON.parse(body.text) : undefined;
    } catch {
      listing = undefined;
    }
    const data = isRecord(listing) ? listing.data : undefined;
    if (!Array.isArray(data) || !data.every(isRecord)) {
      const got = listing === undefined ? describeBody(body) : `JSON without a "data" list of models`;
      throw new RuntimeFailure(
        `${url} answered HTTP ${response.status} with ${got}, not an OpenAI model list ({"data":[{"id":…}]})`,
        {
          code: 'remote-bad-response',
          hint: 'check --endpoint: it must be the API base URL of an OpenAI-compatible server (usually ending in /v1), not a web page',
        },
      );
    }
    return data.map((entry) => entry.id).filter((id): id is string => typeof id === 'string');
  }

  /**
   * Re-reads the settings and the key (from the environment variable it names), e.g. after a key rotation
   * (`remote-auth-failure`) or an edited deployment (`remote-config-change`); in-flight requests finish as they are.
   */
  async rebuildSession(_cause: SessionRebuildCause): Promise<void> {
    this.assertUsable();
    const parsed = parseRemoteSettings(this.spec.settings, this.spec.model, this.options.env);
    this.settings = parsed.settings;
    this.apiKey = parsed.apiKey;
    this.limiter.update(this.settings.limits);
  }

  async *execute(batch: ExecuteBatch, options: ExecuteOptions = {}): AsyncGenerator<TokenChunk> {
    this.assertUsable();
    const { requestId } = batch;
    const external = options.signal;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    external?.addEventListener('abort', onAbort, { once: true });
    if (external?.aborted) controller.abort();
    this.live.add(controller);

    const mode = batch.mode ?? this.settings.mode;
    const promptEstimate = estimatePromptTokens(batch.messages);
    let permit: Permit | undefined;
    let usage: TokenUsage | undefined;
    let pieces = 0;
    const fallbackUsage = (): TokenUsage => usage ?? { input: promptEstimate, output: pieces, cached: 0 };

    try {
      const reserve = promptEstimate + (batch.sampling.maxTokens ?? this.settings.defaultMaxTokens);
      permit = await this.limiter.acquire(reserve, controller.signal);
      const path = mode === 'chat' ? '/chat/completions' : '/completions';
      const response = await send({
        ...this.request(path, 'POST'),
        body: requestBody(batch, this.settings.model, mode),
        signal: controller.signal,
      });
      if (!response.body) throw new RuntimeFailure(`${this.settings.endpoint} sent an empty response`);
      const { idleMs } = this.settings.timeouts;
      const host = hostOf(response.url || this.settings.endpoint);
      let finish: FinishReason | undefined;
      const calls = new ToolCallAssembler();
      let sawDone = false;
      // The idle timeout restarts with every chunk (keep-alive comments included): silence ends it, length never.
      for await (const event of readSseEvents(readWithIdleTimeout(response.body, idleMs, host))) {
        if (event.data === '[DONE]') {
          sawDone = true;
          break;
        }
        const decoded = decodeChunk(event.data, mode);
        if (decoded.toolCalls.length > 0) calls.add(decoded.toolCalls);
        if (decoded.usage) usage = decoded.usage;
        if (decoded.finishReason) finish = decoded.finishReason;
        if (decoded.text !== '' || decoded.thought !== '') {
          pieces++;
          yield {
            requestId,
            textDelta: decoded.text,
            ...(decoded.thought !== '' ? { thoughtDelta: decoded.thought } : {}),
          };
        }
      }
      if (finish === undefined && !sawDone) {
        throw new RuntimeFailure(
          `${this.settings.endpoint} closed the stream before the answer was complete`,
          {
            code: 'remote-stream-cut',
          },
        );
      }
      const toolCalls = calls.result();
      yield {
        requestId,
        textDelta: '',
        usage: fallbackUsage(),
        finishReason: finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      };
    } catch (error) {
      if (external?.aborted || error instanceof RemoteAborted) {
        yield { requestId, textDelta: '', usage: fallbackUsage(), finishReason: 'abort' };
        return;
      }
      if (isTimeoutError(error)) {
        throw new RuntimeFailure(
          `${this.settings.endpoint} sent nothing for ${formatSeconds(this.settings.timeouts.idleMs)} mid-answer`,
          {
            code: 'remote-timeout',
            hint: 'the server may be overloaded; raise ATOMR_INFER_REMOTE_IDLE_TIMEOUT (seconds) or settings.timeouts.idleMs',
          },
        );
      }
      if (error instanceof AtomrError) throw error;
      throw new RuntimeFailure(
        `the stream from ${this.settings.endpoint} failed: ${redactSecrets(error instanceof Error ? error.message : String(error))}`,
        { code: 'remote-stream-error', cause: error },
      );
    } finally {
      external?.removeEventListener('abort', onAbort);
      // Leaving the loop early lands here too: closing the connection tells the server to stop generating.
      controller.abort();
      this.live.delete(controller);
      permit?.release(usage ? usage.input + usage.output : promptEstimate + pieces);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const controller of this.live) controller.abort();
    this.live.clear();
  }

  private request(path: string, method: 'GET' | 'POST') {
    const base = { settings: this.settings, apiKey: this.apiKey, path, method };
    return this.options.onRetry ? { ...base, onRetry: this.options.onRetry } : base;
  }

  private assertUsable(): void {
    if (this.disposed) throw runnerDisposed('remote');
  }
}

/** An OpenAI model list of a few thousand entries stays far below this. */
const MAX_MODEL_LIST_BYTES = 8 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalWindow(windowMs: number | undefined): { windowMs?: number } {
  return windowMs === undefined ? {} : { windowMs };
}
