import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pull } from '../../src/hub/pull.js';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { GGUF_FILE, GGUF_REPO, VLLM_REPO, ggufRepo, tempHome, vllmRepo, type TempHome } from './helpers.js';
import { pythonHubInterpreter, pythonJson } from './python-hub.js';

/**
 * The real Python huggingface_hub against our cache: it must read what `pull` wrote with the network off, and
 * `pull` must reuse what Python downloaded. Skipped (with the reason logged) where Python or pip is missing.
 */

let python: string | undefined;
let hub: FakeHub;
let home: TempHome;

beforeAll(async () => {
  const found = await pythonHubInterpreter();
  python = found.python;
  if (!python) console.warn(`python-interop: skipped: ${found.reason ?? 'unknown reason'}`);
}, 180_000);

beforeEach(async () => {
  hub = await startFakeHub({ repos: [vllmRepo(), ggufRepo()] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hub.close();
  await home.cleanup();
});

const WANTED = {
  [VLLM_REPO]: ['config.json', 'tokenizer.json', 'model.safetensors'],
  [GGUF_REPO]: [GGUF_FILE],
};

const READ_OFFLINE = `
import json
from huggingface_hub import hf_hub_download, snapshot_download, scan_cache_dir
out = {"files": {}, "snapshots": {}}
for repo, files in json.loads(${JSON.stringify(JSON.stringify(WANTED))}).items():
    for f in files:
        out["files"][repo + "/" + f] = hf_hub_download(repo, f)
    out["snapshots"][repo] = snapshot_download(repo, local_files_only=True)
info = scan_cache_dir()
out["warnings"] = [str(w) for w in info.warnings]
out["repos"] = {r.repo_id: {"files": r.nb_files, "refs": sorted(ref for rev in r.revisions for ref in rev.refs)} for r in info.repos}
print(json.dumps(out))
`;

describe('interoperability with Python huggingface_hub', () => {
  it('Python reads what pull wrote, with HF_HUB_OFFLINE=1', async (context) => {
    if (!python) return context.skip();
    const vllm = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env: home.env() });
    const gguf = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    const before = hub.requests.length;
    const out = await pythonJson(python, READ_OFFLINE, home.env({ HF_HUB_OFFLINE: '1' }));
    expect(hub.requests.length).toBe(before);
    expect(out.warnings).toEqual([]);
    const files = out.files as Record<string, string>;
    expect(files[`${GGUF_REPO}/${GGUF_FILE}`]).toBe(gguf.ggufPath);
    expect(files[`${VLLM_REPO}/config.json`]).toBe(join(vllm.snapshotDir ?? '', 'config.json'));
    expect(out.snapshots).toEqual({ [VLLM_REPO]: vllm.snapshotDir, [GGUF_REPO]: gguf.snapshotDir });
    expect(out.repos).toEqual({
      [VLLM_REPO]: { files: vllm.files.length, refs: ['main'] },
      [GGUF_REPO]: { files: 1, refs: ['main'] },
    });
  });

  it('pull reuses blobs Python downloaded, even past the lock files Python leaves behind', async (context) => {
    if (!python) return context.skip();
    const download = `
import json
from huggingface_hub import hf_hub_download
print(json.dumps({"paths": [hf_hub_download("${VLLM_REPO}", f) for f in
  ["config.json", "generation_config.json", "tokenizer.json", "chat_template.jinja", "model.safetensors"]]
  + [hf_hub_download("${GGUF_REPO}", "${GGUF_FILE}")]}))
`;
    await pythonJson(python, download, home.env());
    const served = hub.totalBytesServed();
    const vllm = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'vllm', env: home.env() });
    expect(vllm.downloadedBytes).toBe(0);
    expect(hub.totalBytesServed()).toBe(served);

    // A blob lost after Python's download: our lock must not mistake Python's leftover lock file for a live one.
    const blob = join(
      home.cacheDir,
      'models--ggml-org--gemma-4-E2B-it-GGUF',
      'blobs',
      hub.sha256Of(GGUF_REPO, GGUF_FILE),
    );
    await rm(blob);
    const lock = join(
      home.cacheDir,
      '.locks',
      'models--ggml-org--gemma-4-E2B-it-GGUF',
      `${hub.sha256Of(GGUF_REPO, GGUF_FILE)}.lock`,
    );
    expect(await readFile(lock, 'utf8')).toBe(''); // Python's filelock leaves an empty file behind
    const gguf = await pull({ model: 'google/gemma-4-E2B-it', runtime: 'llama-cpp', env: home.env() });
    expect(gguf.downloadedBytes).toBeGreaterThan(0);
  });
});
