#!/usr/bin/env node
// `npm run bench -- pull`: download throughput of `pull` (verified, resumable, into the HF cache) against a
// plain `fetch` streamed to disk, both from a loopback fake Hub in a separate process, for one ≥ 200 MB file.
// Also CPU time per GB for pull (hash + write) and for sha256 alone. Needs dist/ (npm run build).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.PULL_BENCH_MB ?? 256) * 1024 * 1024;
const ROUNDS = Number(process.env.PULL_BENCH_ROUNDS ?? 5);
const REPO = 'bench-org/bench-GGUF';
const FILE = 'bench-Q4_K_M.gguf';
const COMMIT = 'b'.repeat(40);

if (process.argv[2] === '--serve') serve(process.argv[3], process.argv[4]);
else await main();

/** The fake Hub, in its own process so serving never competes with the client's event loop. */
function serve(path, sha) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === `/api/models/${REPO}/revision/main`) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: REPO,
          sha: COMMIT,
          siblings: [
            { rfilename: FILE, size: SIZE, blobId: 'c'.repeat(40), lfs: { sha256: sha, size: SIZE } },
          ],
        }),
      );
      return;
    }
    if (url.pathname === `/${REPO}/resolve/${COMMIT}/${FILE}`) {
      res.statusCode = 302;
      res.setHeader('location', '/cdn/blob');
      res.end();
      return;
    }
    if (url.pathname === '/cdn/blob') {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      if (range) {
        res.statusCode = 206;
        res.setHeader('content-range', `bytes ${start}-${SIZE - 1}/${SIZE}`);
      }
      res.setHeader('content-length', String(SIZE - start));
      await pipeline(createReadStream(path, { start, highWaterMark: 1 << 20 }), res).catch(() => undefined);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

async function main() {
  const distPull = join(here, '..', 'dist', 'hub', 'pull.js');
  if (!existsSync(distPull)) {
    console.log('pull.bench: dist/ is missing; run `npm run build` first');
    process.exitCode = 1;
    return;
  }
  const { pull } = await import(distPull);
  const dir = await mkdtemp(join(tmpdir(), 'atomr-pull-bench-'));
  let server;
  try {
    const source = join(dir, 'source.bin');
    const sha = await writeRandomFile(source, SIZE);
    server = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', source, sha], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise((resolve) =>
      server.stdout.once('data', (data) => resolve(String(data).trim())),
    );
    const endpoint = `http://127.0.0.1:${port}`;
    const mb = SIZE / 1e6;
    console.log(
      `file: ${(SIZE / 2 ** 20).toFixed(0)} MiB from a loopback fake Hub (separate process), ${ROUNDS} rounds`,
    );

    const plain = [];
    const pulled = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate so page-cache warmth and background load hit both sides alike.
      plain.push(await timed(() => plainFetch(`${endpoint}/cdn/blob`, join(dir, `plain-${round}.bin`))));
      await rm(join(dir, `plain-${round}.bin`), { force: true });
      const cache = join(dir, `cache-${round}`);
      pulled.push(
        await timed(async () => {
          const result = await pull({
            model: 'google/gemma-4-E2B-it',
            runtime: 'llama-cpp',
            ggufOverride: `hf:${REPO}:Q4_K_M`,
            env: { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache, HF_HOME: join(dir, 'hf-home'), HOME: dir },
          });
          if (result.downloadedBytes !== SIZE) throw new Error(`pull downloaded ${result.downloadedBytes}`);
        }),
      );
      await rm(cache, { recursive: true, force: true });
    }
    const best = (runs) => runs.reduce((a, b) => (a.wallMs < b.wallMs ? a : b));
    const median = (runs) => [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(runs.length / 2)];
    const rate = (run) => (mb / (run.wallMs / 1000)).toFixed(0);
    const cpuPerGB = (run) => ((run.cpuMs / 1000) * (1e3 / mb)).toFixed(2);
    const leastCpu = (runs) => runs.reduce((a, b) => (a.cpuMs < b.cpuMs ? a : b));
    for (const [name, runs] of [
      ['plain fetch → disk', plain],
      ['pull (hash+verify)', pulled],
    ]) {
      console.log(
        `${name} : best ${rate(best(runs))} MB/s, median ${rate(median(runs))} MB/s; CPU ${cpuPerGB(leastCpu(runs))} s/GB`,
      );
    }
    console.log(
      `ratio pull / plain : best ${(best(plain).wallMs / best(pulled).wallMs).toFixed(2)}, median ${(median(plain).wallMs / median(pulled).wallMs).toFixed(2)}  (goal ≥ 0.90)`,
    );
    console.log(
      `all rounds MB/s    : plain ${plain.map(rate).join(', ')} | pull ${pulled.map(rate).join(', ')}`,
    );
    const hash = await timed(async () => hashFile(source));
    console.log(
      `sha256 alone       : CPU ${cpuPerGB(hash)} s/GB (${rate(hash)} MB/s reading from page cache)`,
    );
  } finally {
    server?.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeRandomFile(path, size) {
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  const chunk = 8 * 1024 * 1024;
  for (let written = 0; written < size; written += chunk) {
    const bytes = randomBytes(Math.min(chunk, size - written));
    hash.update(bytes);
    await handle.write(bytes);
  }
  await handle.close();
  return hash.digest('hex');
}

async function plainFetch(url, path) {
  const response = await globalThis.fetch(url);
  await pipeline(Readable.fromWeb(response.body), createWriteStream(path));
  const { size } = await stat(path);
  if (size !== SIZE) throw new Error(`plain fetch wrote ${size}`);
}

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest('hex');
}

async function timed(work) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}
