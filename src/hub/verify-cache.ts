import { lstat, realpath, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelError } from '../core/errors.js';
import { hashFile } from './blob-hash.js';
import { snapshotPath } from './cache-layout.js';
import { blobPath, incompletePath, sizeOf } from './cache-writer.js';
import type { PullEvent } from './pull-events.js';
import { summarisePlan, type PlanFile, type PullPlan } from './pull-plan.js';
import { blobNameOf } from './repo-info.js';

/**
 * `pull --verify`: cached blobs are trusted by size on every other run (re-hashing gigabytes each time would
 * cost seconds), so a blob damaged at the same size would load badly forever while `pull` says "already
 * cached". This re-hashes what the runners read — each file of the snapshot — against the checksum it must
 * have (the Hub's LFS sha256 or git blob id; offline, the blob's own name, which is that checksum), and
 * removes a damaged file so the pull downloads it again. Offline there is no way to fetch it: an error, and the
 * file stays as it is.
 */

export interface VerifyReport {
  /** Cached files whose checksum was computed. */
  checked: number;
  /** Files that failed and are downloaded again by this pull. */
  repaired: string[];
}

const SHA256_NAME = /^[0-9a-f]{64}$/;
const GIT_OID_NAME = /^[0-9a-f]{40}$/;

export async function verifyCachedFiles(
  plan: PullPlan,
  cacheDir: string,
  emit: (event: PullEvent) => void,
): Promise<{ plan: PullPlan; report: VerifyReport }> {
  const files: PlanFile[] = [];
  const report: VerifyReport = { checked: 0, repaired: [] };
  for (const file of plan.files) {
    if (!file.cached) {
      files.push(file);
      continue;
    }
    const pointer = snapshotPath(cacheDir, plan.repo, plan.commit, file.path);
    const target = await realpath(pointer).catch(() => blobPath(cacheDir, plan.repo, blobNameOf(file)));
    const expected = plan.offline
      ? checksumFromName(target)
      : { name: blobNameOf(file), lfs: !!file.lfsSha256 };
    if (expected === undefined) {
      emit({
        event: 'notice',
        message: `cannot verify ${file.path} offline: it is a copy, not named by its checksum`,
      });
      files.push(file);
      continue;
    }
    const size = (await sizeOf(target)) ?? -1;
    const actual =
      size === file.size
        ? await hashFile(target, { size, ...(expected.lfs ? { lfsSha256: expected.name } : {}) })
        : undefined;
    const ok = actual === expected.name;
    report.checked++;
    emit({ event: 'verify', path: file.path, size: file.size, ok });
    if (ok) {
      files.push(file);
      continue;
    }
    if (plan.offline) throw damagedOffline(plan, file.path);
    await removeDamaged(target, pointer, blobPath(cacheDir, plan.repo, blobNameOf(file)));
    report.repaired.push(file.path);
    const partial = (await sizeOf(incompletePath(cacheDir, plan.repo, blobNameOf(file)))) ?? 0;
    files.push({ ...file, cached: false, partialBytes: partial <= file.size ? partial : 0 });
  }
  return {
    plan: summarisePlan(plan.target, plan.repo, plan.revision, plan.commit, plan.offline, files),
    report,
  };
}

/** Offline, the checksum is the blob's name: 64 hex is an LFS sha256, 40 hex a git blob id. */
function checksumFromName(path: string): { name: string; lfs: boolean } | undefined {
  const name = basename(path);
  if (SHA256_NAME.test(name)) return { name, lfs: true };
  if (GIT_OID_NAME.test(name)) return { name, lfs: false };
  return undefined;
}

/**
 * The damaged bytes go. Where the cache holds copies instead of symlinks, the snapshot's copy goes too, and so
 * does the blob it was copied from, so that the download that follows cannot reuse either.
 */
async function removeDamaged(target: string, pointer: string, blob: string): Promise<void> {
  await unlink(target).catch(() => undefined);
  const entry = await lstat(pointer).catch(() => undefined);
  if (entry?.isFile()) await unlink(pointer).catch(() => undefined);
  if (blob !== target) await unlink(blob).catch(() => undefined);
}

function damagedOffline(plan: PullPlan, path: string): ModelError {
  return new ModelError(
    `${plan.repo}/${path} in the cache is damaged (its checksum does not match) and cannot be downloaded again now (offline or the Hub is unreachable)`,
    {
      code: 'cache-damaged',
      hint: 'run `atomr-infer pull --verify` again with HF_HUB_OFFLINE unset and the Hub reachable; it replaces the damaged file',
    },
  );
}
