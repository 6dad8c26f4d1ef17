import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Python huggingface_hub's cache layout, read-only helpers:
 *   <cache>/models--<org>--<name>/{refs/<rev>, blobs/<hash>, snapshots/<commit>/<path>}
 */

export type RepoType = 'model' | 'dataset' | 'space';

export function repoFolderName(repo: string, type: RepoType = 'model'): string {
  return [`${type}s`, ...repo.split('/')].join('--');
}

export function repoCacheDir(cacheDir: string, repo: string, type: RepoType = 'model'): string {
  return join(cacheDir, repoFolderName(repo, type));
}

/** The commit a revision points to in the cache (`refs/<rev>`), or the revision itself when it is a commit. */
export function cachedCommit(cacheDir: string, repo: string, revision = 'main'): string | undefined {
  if (/^[0-9a-f]{40}$/.test(revision)) {
    return existsSync(join(repoCacheDir(cacheDir, repo), 'snapshots', revision)) ? revision : undefined;
  }
  const ref = join(repoCacheDir(cacheDir, repo), 'refs', revision);
  try {
    const commit = readFileSync(ref, 'utf8').trim();
    return commit || undefined;
  } catch {
    return undefined;
  }
}

/** Files present in the snapshot of `revision` (paths relative to the snapshot, `/`-separated). */
export function cachedSnapshotFiles(cacheDir: string, repo: string, revision = 'main'): string[] {
  const commit = cachedCommit(cacheDir, repo, revision);
  if (!commit) return [];
  const root = join(repoCacheDir(cacheDir, repo), 'snapshots', commit);
  const files: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), relative);
      // A dangling symlink (blob deleted) does not count as cached.
      else if (existsSync(join(dir, entry.name))) files.push(relative);
    }
  };
  walk(root, '');
  return files;
}

export function snapshotPath(cacheDir: string, repo: string, commit: string, file: string): string {
  return join(repoCacheDir(cacheDir, repo), 'snapshots', commit, ...file.split('/'));
}
