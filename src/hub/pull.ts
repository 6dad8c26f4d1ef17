import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VariantId } from '../core/catalog.js';
import { AtomrError } from '../core/errors.js';
import type { WeightSource } from '../core/model-runner.js';
import { hfHubCacheDir, hfOffline, hfOfflineVariable } from '../core/paths.js';
import { cacheWriteError, diskSpaceError } from './cache-errors.js';
import { repoCacheDir, snapshotPath } from './cache-layout.js';
import { blobPath, fetchBlob, incompletePath, linkSnapshot, sizeOf, writeRef } from './cache-writer.js';
import { freeBytesAt } from './disk-space.js';
import { createHubClient } from './client-from-env.js';
import { blobNameOf, type HubClient } from './hub-client.js';
import type { PullEvent } from './pull-events.js';
import {
  localGgufMissing,
  planOffline,
  planOnline,
  pullTarget,
  type PlanFile,
  type PullPlan,
} from './pull-plan.js';
import { ProgressTracker } from './progress-tracker.js';
import type { RetryPolicy } from './retry.js';
import type { PullRuntime } from './runner-files.js';
import { verifyCachedFiles, type VerifyReport } from './verify-cache.js';

export { HUB_TIMEOUT_ENV, createHubClient } from './client-from-env.js';

/**
 * `pull`: puts what a runner needs into the Hugging Face cache, resumably and verified, and says where it is.
 */

export interface PullOptions {
  model: VariantId;
  runtime: PullRuntime;
  /** Branch, tag or commit; default `main`. */
  revision?: string | undefined;
  ggufOverride?: string | undefined;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: PullEvent) => void;
  /** Share one client (and its memoised model info) with a size probe that already asked the Hub. */
  client?: HubClient;
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  freeBytes?: (path: string) => Promise<number | undefined>;
  /** Files downloaded at once. */
  concurrency?: number;
  /** A body that sends nothing for this long is dropped and resumed (default: HF_HUB_DOWNLOAD_TIMEOUT, 10 s). */
  idleTimeoutMs?: number;
  /** `pull --verify`: re-hash the cached files and download again those that fail. */
  verify?: boolean;
  /** A plan already made by `planPull` (provision asks before downloading): not asked for again. */
  plan?: PullPlan | { local: string };
}

export interface PulledFile {
  path: string;
  size: number;
  downloadedBytes: number;
  reused: boolean;
}

export interface PullResult {
  model: VariantId;
  runtime: PullRuntime;
  /** `null` for a local GGUF override. */
  repo: string | null;
  revision: string;
  commit: string | null;
  snapshotDir: string | null;
  offline: boolean;
  files: PulledFile[];
  downloadedBytes: number;
  totalBytes: number;
  /** What a RunnerSpec should load: pinned to the commit, so loading never needs the network. */
  weights: WeightSource;
  /** llama.cpp: the GGUF to open (the first shard of a split file). */
  ggufPath?: string;
  /** With `verify`: how many cached files were re-hashed, and which failed and were downloaded again. */
  verified?: VerifyReport;
}

/** Error codes meaning "the Hub cannot be used right now": a complete cached snapshot is used instead. */
const HUB_UNUSABLE = new Set(['hub-unreachable', 'hub-timeout', 'hub-bad-response', 'hub-http-error']);

/** Plans a pull without downloading: online when allowed, else from the cache. */
export async function planPull(options: PullOptions): Promise<PullPlan | { local: string }> {
  const env = options.env ?? process.env;
  const target = pullTarget(options.model, options.runtime, options.ggufOverride);
  if (target.repo === null) {
    const path = target.gguf?.kind === 'local' ? target.gguf.path : '';
    if (!existsSync(path)) throw localGgufMissing(path);
    return { local: path };
  }
  const repoTarget = { ...target, repo: target.repo };
  const revision = options.revision ?? 'main';
  const cacheDir = hfHubCacheDir(env);
  if (hfOffline(env)) {
    const variable = hfOfflineVariable(env);
    return planOffline(
      repoTarget,
      revision,
      cacheDir,
      `${variable}=${env[variable]?.trim() ?? ''} forbids downloading`,
    );
  }
  const client = options.client ?? clientFor(env, options);
  // With a complete snapshot cached, the Hub is asked once, without retries: when it does not answer (or answers
  // nonsense) the cache does, as Python's huggingface_hub does after one metadata request.
  const cached = await planOffline(repoTarget, revision, cacheDir, 'the Hub is unreachable').catch(
    () => undefined,
  );
  try {
    return await planOnline(repoTarget, revision, client, cacheDir, options.signal, {
      ...(cached ? { attempts: 1 } : {}),
    });
  } catch (error) {
    if (!cached || !(error instanceof AtomrError) || !HUB_UNUSABLE.has(error.code)) throw error;
    options.onEvent?.({ event: 'notice', message: `${error.message}; using the cached snapshot` });
    return cached;
  }
}

export async function pull(options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const started = Date.now();
  const emit = options.onEvent ?? (() => undefined);
  const revision = options.revision ?? 'main';
  const planned = options.plan ?? (await planPull(options));
  if ('local' in planned) return localResult(options, revision, planned.local);
  const cacheDir = hfHubCacheDir(env);
  let plan = planned;
  let verified: VerifyReport | undefined;
  if (options.verify) ({ plan, report: verified } = await verifyCachedFiles(plan, cacheDir, emit));
  emit({
    event: 'plan',
    repo: plan.repo,
    revision: plan.revision,
    commit: plan.commit,
    runtime: options.runtime,
    offline: plan.offline,
    files: plan.files.map(({ path, size, cached, partialBytes }) => ({ path, size, cached, partialBytes })),
    totalBytes: plan.totalBytes,
    downloadBytes: plan.downloadBytes,
  });

  const results = new Map<string, PulledFile>();
  if (!plan.offline) {
    const freeBytes = options.freeBytes ?? freeBytesAt;
    await checkDiskSpace(plan, cacheDir, freeBytes);
    const tracker = new ProgressTracker(plan, emit);
    try {
      await download(plan, revision, cacheDir, tracker, results, options);
    } catch (error) {
      const facts = {
        repo: plan.repo,
        cacheDir,
        downloadBytes: await bytesStillMissing(plan, cacheDir),
        freeBytes: await freeBytes(cacheDir).catch(() => undefined),
      };
      throw cacheWriteError(error, facts) ?? error;
    }
  }
  const files = plan.files.map(
    (file) =>
      results.get(file.path) ?? { path: file.path, size: file.size, downloadedBytes: 0, reused: true },
  );
  const downloadedBytes = files.reduce((sum, file) => sum + file.downloadedBytes, 0);
  const snapshotDir = join(repoCacheDir(cacheDir, plan.repo), 'snapshots', plan.commit);
  emit({
    event: 'done',
    repo: plan.repo,
    commit: plan.commit,
    snapshotDir,
    downloadedBytes,
    totalBytes: plan.totalBytes,
    elapsedMs: Date.now() - started,
  });
  const first = plan.files[0]?.path;
  const gguf = plan.target.gguf !== null && first !== undefined;
  return {
    model: options.model,
    runtime: options.runtime,
    repo: plan.repo,
    revision,
    commit: plan.commit,
    snapshotDir,
    offline: plan.offline,
    files,
    downloadedBytes,
    totalBytes: plan.totalBytes,
    weights: {
      kind: 'huggingface',
      repo: plan.repo,
      revision: plan.commit,
      ...(gguf ? { file: first } : {}),
    },
    ...(gguf ? { ggufPath: snapshotPath(cacheDir, plan.repo, plan.commit, first) } : {}),
    ...(verified ? { verified } : {}),
  };
}

/** Writes the ref, the snapshot folder and every file that is not cached yet. */
async function download(
  plan: PullPlan,
  revision: string,
  cacheDir: string,
  tracker: ProgressTracker,
  results: Map<string, PulledFile>,
  options: PullOptions,
): Promise<void> {
  // Like Python: the ref first, so a reader of refs/<rev> finds the commit even mid-download.
  await writeRef(cacheDir, plan.repo, revision, plan.commit);
  await mkdir(join(repoCacheDir(cacheDir, plan.repo), 'snapshots', plan.commit), { recursive: true });
  // @huggingface/hub's scanCacheDir rejects a repo without refs/, even when the revision is a commit.
  await mkdir(join(repoCacheDir(cacheDir, plan.repo), 'refs'), { recursive: true });
  const client = options.client ?? clientFor(options.env ?? process.env, options);
  // Largest first: the long file starts at once and the small ones fill the other slot.
  const bySize = [...plan.files].sort((a, b) => b.size - a.size);
  await runPool(bySize, options.concurrency ?? 2, async (file) => {
    results.set(file.path, await pullFile(file, plan, client, cacheDir, tracker, options));
  });
}

/** A client whose retries show up as `retry` events. */
function clientFor(env: NodeJS.ProcessEnv, options: PullOptions): HubClient {
  return createHubClient(env, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    onRetry: (notice) =>
      options.onEvent?.({
        event: 'retry',
        path: notice.what,
        attempt: notice.attempt,
        delayMs: notice.delayMs,
        reason: notice.reason,
      }),
  });
}

async function pullFile(
  file: PlanFile,
  plan: PullPlan,
  client: HubClient,
  cacheDir: string,
  tracker: ProgressTracker,
  options: PullOptions,
): Promise<PulledFile> {
  const emit = options.onEvent ?? (() => undefined);
  if (!file.cached)
    emit({ event: 'file-start', path: file.path, size: file.size, offset: file.partialBytes });
  const fetched = await fetchBlob({
    client,
    cacheDir,
    repo: plan.repo,
    commit: plan.commit,
    file,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    onProgress: (progress) => tracker.update(file.path, progress.bytesOnDisk, progress.delta),
    onNotice: (notice) => {
      if (notice.kind === 'wait-lock') emit({ event: 'wait-lock', path: file.path });
      else if (notice.kind === 'retry') emit({ event: 'retry', path: file.path, ...omitKind(notice) });
      else if (notice.kind === 'range-refused') {
        tracker.update(file.path, 0, 0);
        emit({
          event: 'notice',
          message: `the server refused to resume ${file.path} at byte ${notice.offset} (HTTP 416): the partial download no longer fits the file, so it starts again`,
        });
      } else if (notice.kind === 'corrupt-partial') {
        tracker.update(file.path, 0, 0);
        emit({ event: 'corrupt-partial', path: file.path, offset: notice.offset });
      }
    },
  });
  await linkSnapshot(cacheDir, plan.repo, plan.commit, file.path, blobNameOf(file));
  tracker.finish(file.path, file.size);
  emit({
    event: 'file-done',
    path: file.path,
    size: file.size,
    downloadedBytes: fetched.downloadedBytes,
    reused: fetched.reused,
  });
  return {
    path: file.path,
    size: file.size,
    downloadedBytes: fetched.downloadedBytes,
    reused: fetched.reused,
  };
}

function omitKind<T extends { kind: string }>(value: T): Omit<T, 'kind'> {
  const { kind: _kind, ...rest } = value;
  return rest;
}

/** What the disk still has to take: files not verified yet, minus what their partial files already hold. */
async function bytesStillMissing(plan: PullPlan, cacheDir: string): Promise<number> {
  let missing = 0;
  for (const file of plan.files) {
    const name = blobNameOf(file);
    if ((await sizeOf(blobPath(cacheDir, plan.repo, name))) === file.size) continue;
    missing +=
      file.size - Math.min(file.size, (await sizeOf(incompletePath(cacheDir, plan.repo, name))) ?? 0);
  }
  return missing;
}

/** Refuses to start a download that cannot fit, using the Hub's real sizes. */
async function checkDiskSpace(
  plan: PullPlan,
  cacheDir: string,
  freeBytes: (path: string) => Promise<number | undefined>,
): Promise<void> {
  if (plan.downloadBytes === 0) return;
  const free = await freeBytes(cacheDir);
  if (free === undefined || free >= plan.downloadBytes) return;
  throw diskSpaceError({ repo: plan.repo, cacheDir, downloadBytes: plan.downloadBytes, freeBytes: free });
}

async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      if (failures.length) return;
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length) throw failures[0];
}

function localResult(options: PullOptions, revision: string, path: string): PullResult {
  options.onEvent?.({ event: 'notice', message: `using the local GGUF ${path}; nothing to download` });
  return {
    model: options.model,
    runtime: options.runtime,
    repo: null,
    revision,
    commit: null,
    snapshotDir: null,
    offline: true,
    files: [],
    downloadedBytes: 0,
    totalBytes: 0,
    weights: { kind: 'local-path', path },
    ggufPath: path,
  };
}
