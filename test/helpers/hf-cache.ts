import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoFolderName } from '../../src/hub/cache-layout.js';

/**
 * Puts `files` into a Hugging Face hub cache the way a finished download leaves them: `refs/main` names `commit`,
 * and each file sits under `snapshots/<commit>/`. Returns each file's path, by name, for a test that changes one
 * further (a sparse size, say).
 */
export function writeCachedSnapshot(
  hubCache: string,
  repo: string,
  files: Record<string, string | Uint8Array>,
  commit = 'a'.repeat(40),
): Record<string, string> {
  const root = join(hubCache, repoFolderName(repo));
  mkdirSync(join(root, 'refs'), { recursive: true });
  writeFileSync(join(root, 'refs', 'main'), commit);
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, 'snapshots', commit, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    paths[name] = path;
  }
  return paths;
}
