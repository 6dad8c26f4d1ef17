import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../../fakes/hub/fake-hub.js';
import {
  HTML_PAGE,
  fixedAnswer,
  stallAfterHeaders,
  startScriptedServer,
  startSilentServer,
  type HostileServer,
} from '../../helpers/hostile-servers.js';
import { BIN, jsonLines, runCli, type CliResult } from '../../hub/cli.js';
import { GGUF_FILE, GGUF_REPO, ggufRepo, tempHome, type TempHome } from '../../hub/helpers.js';

/**
 * The adversarial cases of issue 9 for the Hub client (`pull`, `provision`) and the remote runner, run against
 * the built CLI: endpoints that accept and never answer, that send headers and then stall, that answer HTML or
 * JSON of the wrong shape with 200, a disk that fills up or a cache that cannot be written, and a cached blob
 * corrupted at the same size. Each must end in one line (plus a hint) with the documented exit code, promptly
 * (timeouts are made small through the environment; the CLI is killed after HANG_LIMIT_MS, so a hang fails
 * the test as a `null` exit code rather than by a timing assertion), and must keep what the user had.
 */

const SIZE = 2_000_000;
const HANG_LIMIT_MS = 20_000;
const QUICK_TIMEOUTS = { HF_HUB_ETAG_TIMEOUT: '1', HF_HUB_DOWNLOAD_TIMEOUT: '1' };
const PULL = ['pull', '--model', 'google/gemma-4-E2B-it', '--runtime', 'llama-cpp'];

let hub: FakeHub;
let home: TempHome;
let hostile: HostileServer | undefined;

beforeEach(async () => {
  hub = await startFakeHub({ repos: [ggufRepo({}, SIZE)] });
  home = await tempHome(hub.url);
});

afterEach(async () => {
  await hostile?.close();
  hostile = undefined;
  await hub.close();
  await home.cleanup();
});

const blobDir = (): string => join(home.cacheDir, 'models--ggml-org--gemma-4-E2B-it-GGUF', 'blobs');
const blobFile = (): string => join(blobDir(), hub.sha256Of(GGUF_REPO, GGUF_FILE));
const partialFile = (): string => `${blobFile()}.incomplete`;

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** One error line and one hint line on stderr, no stack trace, no "unexpected error". */
function expectOneLineError(result: CliResult, pattern: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  const errorLines = lines.filter((line) => line.startsWith('atomr-infer: '));
  expect(errorLines, result.stderr).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
  expect(lines.at(-1)).toMatch(/^hint: /);
  expect(result.stderr).not.toMatch(/unexpected error|\n\s+at |SyntaxError|TypeError/);
}

function runWithFileSizeLimit(args: string[], env: NodeJS.ProcessEnv, blocks: number): Promise<CliResult> {
  // `ulimit -f` makes the kernel refuse writes past the limit with EFBIG (Node ignores SIGXFSZ): a real write
  // failure of the ENOSPC family without root, a loop device or a tmpfs.
  const script = `ulimit -f ${blocks} && exec "$0" "$@"`;
  const child = spawn('/bin/sh', ['-c', script, process.execPath, BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_LIMIT_MS);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

describe('a Hub that hangs (item 4)', () => {
  it('accepting connections and never answering: exit 4 in one line after at most two tries', async () => {
    hostile = await startSilentServer();
    const result = await runCli(
      PULL,
      home.env({ HF_ENDPOINT: hostile.url, ...QUICK_TIMEOUTS }),
      HANG_LIMIT_MS,
    );
    expect(result.code).toBe(4);
    expectOneLineError(result, new RegExp(`${hostile.url.replace(/\./g, '\\.')}.*did not answer`));
    expect(result.stderr).toMatch(/hint: .*HF_HUB_ETAG_TIMEOUT/);
    expect(hostile.hits()).toBeLessThanOrEqual(2);
  });

  it('model info whose headers arrive and whose body never does: exit 4 in one line', async () => {
    hostile = await startScriptedServer(stallAfterHeaders({ prefix: '{"sha":' }));
    const result = await runCli(
      PULL,
      home.env({ HF_ENDPOINT: hostile.url, ...QUICK_TIMEOUTS }),
      HANG_LIMIT_MS,
    );
    expect(result.code).toBe(4);
    expectOneLineError(result, /stopped sending/);
  });

  it('a download that stalls and stays stalled: exit 4, and the partial file is kept for the next run', async () => {
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: 500_000 } });
    hub.fail({ on: 'cdn', fault: { kind: 'stall', afterBytes: 0 }, times: Infinity });
    const result = await runCli(PULL, home.env(QUICK_TIMEOUTS), HANG_LIMIT_MS);
    expect(result.code).toBe(4);
    expectOneLineError(result, new RegExp(`${GGUF_FILE}.*stopped sending`));
    expect((await stat(partialFile())).size).toBe(500_000);
    // The try that delivered bytes started a fresh count; it stalled, one more try brought nothing: given up.
    expect(hub.requests.filter((request) => request.kind === 'cdn')).toHaveLength(2);
  });

  it('with the weights cached, a silent Hub is asked once and the cache is used', async () => {
    expect((await runCli(PULL, home.env())).code).toBe(0);
    hostile = await startSilentServer();
    const result = await runCli(
      PULL,
      home.env({ HF_ENDPOINT: hostile.url, ...QUICK_TIMEOUTS }),
      HANG_LIMIT_MS,
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(new RegExp(`${GGUF_FILE}$`));
    expect(result.stderr).toContain('using the cached snapshot');
    expect(hostile.hits()).toBe(1);
  });
});

describe('a Hub that answers nonsense with 200 (item 7)', () => {
  it('an HTML page: pull exits 4 naming the endpoint, with a hint to check HF_ENDPOINT', async () => {
    hostile = await startScriptedServer(fixedAnswer(HTML_PAGE));
    const result = await runCli(PULL, home.env({ HF_ENDPOINT: hostile.url }), HANG_LIMIT_MS);
    expect(result.code).toBe(4);
    expectOneLineError(result, new RegExp(`${hostile.url.replace(/\./g, '\\.')}.*an HTML page`));
    expect(result.stderr).toMatch(/hint: .*HF_ENDPOINT/);
  });

  it('an HTML page: provision exits 4 (the weights), not 5 ("could not be loaded")', async () => {
    hostile = await startScriptedServer(fixedAnswer(HTML_PAGE));
    const env = home.env({
      HF_ENDPOINT: hostile.url,
      ATOMR_INFER_GEMMA_MODEL: 'google/gemma-4-E2B-it',
      ATOMR_INFER_GEMMA_RUNTIME: 'llama-cpp',
    });
    const result = await runCli(['provision', '--yes', '--json'], env, 60_000);
    const last = jsonLines(result.stdout).at(-1);
    expect(last).toMatchObject({ error: { code: 'hub-bad-response', exitCode: 4 } });
    expect(result.code).toBe(4);
    expect(existsSync(join(home.dir, 'state', 'deployments.json'))).toBe(false);
  });

  it.each([
    ['a JSON array', '[]'],
    ['no commit', '{"siblings":[]}'],
    ['a file list that is not a list', `{"sha":"${'a'.repeat(40)}","siblings":{}}`],
    [
      'a file that climbs out of the cache',
      `{"sha":"${'a'.repeat(40)}","siblings":[{"rfilename":"../../gemma-4-E2B-it-Q4_K_M.gguf","size":1,"blobId":"${'b'.repeat(40)}"}]}`,
    ],
    [
      'a blob id that is a path',
      `{"sha":"${'a'.repeat(40)}","siblings":[{"rfilename":"gemma-4-E2B-it-Q4_K_M.gguf","size":1,"blobId":"../../x"}]}`,
    ],
  ])('JSON of the wrong shape (%s): exit 4 in one line, nothing written', async (_what, body) => {
    hostile = await startScriptedServer(fixedAnswer(body, 'application/json'));
    const result = await runCli(PULL, home.env({ HF_ENDPOINT: hostile.url }), HANG_LIMIT_MS);
    expect(result.code).toBe(4);
    expectOneLineError(result, /model info/);
    expect(existsSync(home.cacheDir)).toBe(false);
  });
});

describe('a disk that fills up or a cache that cannot be written (item 8)', () => {
  it('ENOSPC mid-download (the partial is /dev/full): exit 3 with the disk-space message', async () => {
    await mkdir(blobDir(), { recursive: true });
    await symlink('/dev/full', partialFile());
    const result = await runCli([...PULL, '--json'], home.env(), HANG_LIMIT_MS);
    expect(result.code).toBe(3);
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({
      error: { code: 'disk-space', exitCode: 3, message: expect.stringMatching(/^not enough free disk for/) },
    });
    expectOneLineError(result, /not enough free disk for ggml-org\/gemma-4-E2B-it-GGUF/);
  });

  it('EFBIG from a file-size limit: exit 3, the partial kept, and the next run resumes it', async () => {
    const limited = await runWithFileSizeLimit(PULL, home.env(), 2000);
    expect(limited.code).toBe(3);
    expectOneLineError(limited, /too large|not enough free disk/);
    const kept = (await stat(partialFile())).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(SIZE);

    const resumed = await runCli(PULL, home.env(), HANG_LIMIT_MS);
    expect(resumed.code).toBe(0);
    expect(hub.requests.filter((request) => request.kind === 'cdn').at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(await sha256File(blobFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));
  });

  it('a cache directory that cannot be created: exit 2 in one line naming the path', async () => {
    const file = join(home.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const cache = join(file, 'hub');
    const result = await runCli(PULL, home.env({ HF_HUB_CACHE: cache }), HANG_LIMIT_MS);
    expect(result.code).toBe(2);
    expectOneLineError(result, new RegExp(`cannot write.*${file.replace(/\./g, '\\.')}`));
  });
});

describe('a cached blob corrupted at the same size (item 11)', () => {
  it('chat points at pull --verify; pull --verify re-fetches the bad blob and says so', async () => {
    expect((await runCli(PULL, home.env())).code).toBe(0);
    const damaged = Buffer.alloc(SIZE, 0x5a);
    await writeFile(blobFile(), damaged);

    const chat = await runCli(['chat', '--model', 'google/gemma-4-E2B-it', '-p', 'hi'], home.env(), 60_000);
    expect(chat.code).toBe(4);
    expect(chat.stderr).toMatch(/hint: .*pull --verify/);

    const plain = await runCli(PULL, home.env(), HANG_LIMIT_MS);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('already cached');

    const verified = await runCli([...PULL, '--verify', '--json'], home.env(), HANG_LIMIT_MS);
    expect(verified.code).toBe(0);
    const events = jsonLines(verified.stdout);
    expect(events).toContainEqual(expect.objectContaining({ event: 'verify', path: GGUF_FILE, ok: false }));
    expect(events.at(-1)).toMatchObject({ event: 'result', verified: { checked: 1, repaired: [GGUF_FILE] } });
    expect(await sha256File(blobFile())).toBe(hub.sha256Of(GGUF_REPO, GGUF_FILE));

    const again = await runCli([...PULL, '--verify'], home.env(), HANG_LIMIT_MS);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/1 file verified, none damaged/);
  });
});

describe('a remote endpoint that hangs or is not an OpenAI API (items 4 and 12)', () => {
  const provisionRemote = (endpoint: string): string[] => [
    'provision',
    '--runtime',
    'remote',
    '--endpoint',
    endpoint,
    '--model',
    'served-model',
  ];
  const deploymentsFile = (): string => join(home.dir, 'state', 'deployments.json');
  const quick = { ATOMR_INFER_REMOTE_TIMEOUT: '1', ATOMR_INFER_REMOTE_IDLE_TIMEOUT: '1' };

  it('/models answering an HTML page with 200: exit 5 naming the endpoint, nothing registered', async () => {
    hostile = await startScriptedServer(fixedAnswer(HTML_PAGE));
    const result = await runCli(provisionRemote(`${hostile.url}/v1`), home.env(), HANG_LIMIT_MS);
    expect(result.code).toBe(5);
    expectOneLineError(result, new RegExp(`${hostile.url.replace(/\./g, '\\.')}/v1/models.*HTML page`));
    expect(existsSync(deploymentsFile())).toBe(false);
  });

  it('/models answering JSON that is not a model list: exit 5, nothing registered', async () => {
    hostile = await startScriptedServer(fixedAnswer('{"status":"ok"}', 'application/json'));
    const result = await runCli(provisionRemote(`${hostile.url}/v1`), home.env(), HANG_LIMIT_MS);
    expect(result.code).toBe(5);
    expectOneLineError(result, /not an OpenAI model list/);
    expect(existsSync(deploymentsFile())).toBe(false);
  });

  it('an endpoint that accepts and never answers: exit 5 in one line after at most two tries', async () => {
    hostile = await startSilentServer();
    const result = await runCli(provisionRemote(`${hostile.url}/v1`), home.env(quick), HANG_LIMIT_MS);
    expect(result.code).toBe(5);
    expectOneLineError(result, /did not answer within 1 s/);
    expect(hostile.hits()).toBeLessThanOrEqual(2);
    expect(existsSync(deploymentsFile())).toBe(false);
  });

  it('/models whose headers arrive and whose body never does: exit 5 in one line', async () => {
    hostile = await startScriptedServer(stallAfterHeaders({ prefix: '{"data":[' }));
    const result = await runCli(provisionRemote(`${hostile.url}/v1`), home.env(quick), HANG_LIMIT_MS);
    expect(result.code).toBe(5);
    expectOneLineError(result, /stopped sending/);
  });

  it('a chat stream that stalls after its headers: exit 5 in one line', async () => {
    const stall = stallAfterHeaders({ contentType: 'text/event-stream' });
    const models = fixedAnswer('{"object":"list","data":[{"id":"m"}]}', 'application/json');
    hostile = await startScriptedServer((req, res, index) =>
      (req.url?.endsWith('/models') ? models : stall)(req, res, index),
    );
    const args = [
      'chat',
      '--runtime',
      'remote',
      '--endpoint',
      `${hostile.url}/v1`,
      '--model',
      'm',
      '-p',
      'hi',
    ];
    const result = await runCli(args, home.env(quick), HANG_LIMIT_MS);
    expect(result.code).toBe(5);
    expectOneLineError(result, /sent nothing for 1 s/);
  });
});
