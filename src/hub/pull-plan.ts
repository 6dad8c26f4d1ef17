import { stat } from 'node:fs/promises';
import type { VariantId } from '../core/catalog.js';
import { ModelError } from '../core/errors.js';
import { ENV } from '../core/env-names.js';
import { cachedCommit, cachedSnapshotFiles, repoCacheDir, snapshotPath } from './cache-layout.js';
import { blobPath, incompletePath, sizeOf } from './cache-writer.js';
import { ggufSpecFor, type GgufSpec } from './gguf-source.js';
import { blobNameOf, type HubClient, type RemoteFile, type RequestOptions } from './hub-client.js';
import type { PlannedFile } from './pull-events.js';
import { selectGgufFiles, selectVllmFiles, vllmSnapshotComplete, type PullRuntime } from './runner-files.js';

/**
 * Planning a pull: which repo, which commit, which files, what is already cached. Online it asks the Hub
 * (one model-info request); offline it reads the cache's refs and snapshots only.
 */

export interface PullTarget {
  model: VariantId;
  runtime: PullRuntime;
  /** The repo to download from; `null` for a local GGUF override (nothing to download). */
  repo: string | null;
  gguf: GgufSpec | null;
}

export function pullTarget(
  model: VariantId,
  runtime: PullRuntime,
  ggufOverride: string | undefined,
): PullTarget {
  if (runtime === 'vllm') return { model, runtime, repo: model, gguf: null };
  const gguf = ggufSpecFor(model, ggufOverride);
  return { model, runtime, repo: gguf.kind === 'local' ? null : gguf.repo, gguf };
}

export type PlanFile = RemoteFile & PlannedFile;

export interface PullPlan {
  target: PullTarget;
  repo: string;
  revision: string;
  commit: string;
  offline: boolean;
  files: PlanFile[];
  totalBytes: number;
  downloadBytes: number;
}

function selectPaths(target: PullTarget, repo: string, paths: readonly string[]): string[] {
  return target.gguf ? selectGgufFiles(paths, target.gguf, repo) : selectVllmFiles(paths, repo);
}

/** Asks the Hub for the commit and the files the runner needs, and checks which are already cached. */
export async function planOnline(
  target: PullTarget & { repo: string },
  revision: string,
  client: HubClient,
  cacheDir: string,
  signal?: AbortSignal,
  request: RequestOptions = {},
): Promise<PullPlan> {
  const info = await client.repoInfo(target.repo, revision, signal, request);
  const wanted = new Set(
    selectPaths(
      target,
      target.repo,
      info.files.map((file) => file.path),
    ),
  );
  const files: PlanFile[] = [];
  for (const file of info.files.filter((candidate) => wanted.has(candidate.path))) {
    const name = blobNameOf(file);
    const cached = (await sizeOf(blobPath(cacheDir, target.repo, name))) === file.size;
    const partial = cached ? 0 : ((await sizeOf(incompletePath(cacheDir, target.repo, name))) ?? 0);
    files.push({ ...file, cached, partialBytes: partial <= file.size ? partial : 0 });
  }
  return summarisePlan(target, target.repo, revision, info.commit, false, files);
}

/** Builds the plan from the cache alone; a ModelError naming what is missing when it cannot. */
export async function planOffline(
  target: PullTarget & { repo: string },
  revision: string,
  cacheDir: string,
  why: string,
): Promise<PullPlan> {
  const commit = cachedCommit(cacheDir, target.repo, revision);
  const missing = (detail: string): ModelError =>
    new ModelError(`${target.repo} is not in the cache at ${cacheDir} (${detail}) and ${why}`, {
      code: 'not-cached',
      hint: `unset HF_HUB_OFFLINE and run \`atomr-infer pull --model ${target.model} --runtime ${target.runtime}\` with network access, or point HF_HUB_CACHE at a cache that has it`,
    });
  if (!commit) throw missing(`no refs/${revision}`);
  const paths = cachedSnapshotFiles(cacheDir, target.repo, revision);
  let selected: string[];
  try {
    selected = selectPaths(target, target.repo, paths);
  } catch {
    throw missing(
      target.gguf ? `no matching GGUF in snapshot ${commit.slice(0, 8)}` : 'no config or weights',
    );
  }
  const snapshotDir = `${repoCacheDir(cacheDir, target.repo)}/snapshots/${commit}`;
  if (!target.gguf && !vllmSnapshotComplete(paths, snapshotDir)) {
    throw missing(`snapshot ${commit.slice(0, 8)} lacks weight shards`);
  }
  const files: PlanFile[] = [];
  for (const path of selected) {
    const size = (await stat(snapshotPath(cacheDir, target.repo, commit, path))).size;
    files.push({ path, size, blobId: '', cached: true, partialBytes: 0 });
  }
  return summarisePlan(target, target.repo, revision, commit, true, files);
}

export function summarisePlan(
  target: PullTarget,
  repo: string,
  revision: string,
  commit: string,
  offline: boolean,
  files: PlanFile[],
): PullPlan {
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const downloadBytes = files.reduce(
    (sum, file) => sum + (file.cached ? 0 : file.size - file.partialBytes),
    0,
  );
  return { target, repo, revision, commit, offline, files, totalBytes, downloadBytes };
}

export function localGgufMissing(path: string): ModelError {
  return new ModelError(`${ENV.ggufOverride} points to ${path}, which does not exist`, {
    code: 'gguf-missing',
    hint: `fix the path, or unset ${ENV.ggufOverride} to use the catalog's GGUF`,
  });
}
