#!/usr/bin/env node
// `npm run bench -- probe-hub`: what asking the Hub costs `atomr-infer probe --json`.
//   Hub answering from the loopback fake (fresh state dir each run, so the Hub is really asked)
//        vs  node -e 0 + one python3 spawn of probes/python-env.py                 (goal: ratio <= 1.5)
//   Hub remembered (the second probe: state dir kept)                             (same goal)
//   Hub unreachable: a port that accepts connections and never answers            (goal: < 2 s)
// Medians of BENCH_RUNS (default 10) interleaved runs after a warm-up. Run `npm run build` first: it measures
// dist/. The loopback Hub runs in a child process, so it never competes with the timed spawn for this event loop.
// It prints figures; it never fails on them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ARGV, median } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The CLI as installed (CLI_ARGV: this node, then bin/atomr-infer.js).
const cli = CLI_ARGV.slice(1);
const script = join(root, 'probes', 'python-env.py');
const runs = Math.max(5, Number(process.env.BENCH_RUNS) || 10);
const python = process.env.ATOMR_INFER_PYTHON?.trim() || 'python3';
const MODEL = 'google/gemma-4-E2B-it';

// A loopback Hub answering model info as the real one does (test/fakes/hub is TypeScript, which a bench cannot
// import): in a child process of this same file, since spawnSync blocks this event loop while probe runs.
if (process.argv[2] === '--serve') {
  const { createServer: createHttpServer } = await import('node:http');
  const sibling = (rfilename, size) => ({
    rfilename,
    size,
    blobId: 'a'.repeat(40),
    lfs: { sha256: 'b'.repeat(64), size },
  });
  const info = {
    [MODEL]: [sibling('config.json', 900), sibling('model.safetensors', 10_246_621_918)],
    'ggml-org/gemma-4-E2B-it-GGUF': [
      sibling('gemma-4-E2B-it-Q4_0.gguf', 2_841_481_184),
      sibling('mmproj-gemma-4-E2B-it-Q8_0.gguf', 559_874_528),
    ],
  };
  const server = createHttpServer((req, res) => {
    const match = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/main/.exec(req.url ?? '');
    const siblings = match ? info[match[1]] : undefined;
    res.setHeader('content-type', 'application/json');
    if (!siblings) {
      res.statusCode = 404;
      res.end('{"error":"Repository not found"}');
      return;
    }
    res.end(JSON.stringify({ id: match[1], sha: 'c'.repeat(40), gated: false, siblings }));
  });
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  await main();
}

async function main() {
  const hubChild = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const hubUrl = await new Promise((resolve, reject) => {
    hubChild.stdout.setEncoding('utf8').once('data', (line) => resolve(line.trim()));
    hubChild.once('exit', (code) => reject(new Error(`fake Hub exited ${code}`)));
  });

  // A port that accepts and never says a word (a black-holing proxy): the probe's own 1.5 s bound must hold.
  const sockets = new Set();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentUrl = `http://127.0.0.1:${silent.address().port}`;

  const scratch = mkdtempSync(join(tmpdir(), 'atomr-bench-hub-'));
  const keptHome = join(scratch, 'kept');
  let fresh = 0;
  const probeEnv = (endpoint, home) => ({
    ...process.env,
    HF_ENDPOINT: endpoint,
    ATOMR_INFER_HOME: home,
    HF_HUB_OFFLINE: '',
    NO_COLOR: '1',
  });
  const probe = ['probe', '--json', '--model', MODEL];
  const commands = {
    'node -e 0': () => [process.execPath, ['-e', '0'], process.env],
    'python3 python-env.py': () => [python, [script], process.env],
    'probe, Hub asked': () => [
      process.execPath,
      [...cli, ...probe],
      probeEnv(hubUrl, join(scratch, `f${fresh++}`)),
    ],
    'probe, Hub remembered': () => [process.execPath, [...cli, ...probe], probeEnv(hubUrl, keptHome)],
    'probe, Hub silent': () => [
      process.execPath,
      [...cli, ...probe],
      probeEnv(silentUrl, join(scratch, `s${fresh++}`)),
    ],
  };

  function time(name) {
    const [file, args, env] = commands[name]();
    const started = process.hrtime.bigint();
    const result = spawnSync(file, args, { encoding: 'utf8', env });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.error) throw new Error(`${name}: ${result.error.message}`);
    if (name.startsWith('probe')) {
      if (![0, 3].includes(result.status))
        throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
      const source = JSON.parse(result.stdout).hub?.source;
      const expected = {
        'probe, Hub asked': 'hub',
        'probe, Hub remembered': 'remembered',
        'probe, Hub silent': 'catalog',
      }[name];
      if (source !== expected) throw new Error(`${name}: hub.source is ${source}, expected ${expected}`);
    }
    return ms;
  }

  try {
    // Warm-up; it also primes the kept state directory, so every timed "remembered" run asks nothing.
    spawnSync(process.execPath, [...cli, ...probe], { env: probeEnv(hubUrl, keptHome) });
    for (const name of Object.keys(commands)) time(name);
    const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
    for (let i = 0; i < runs; i++) for (const name of Object.keys(commands)) samples[name].push(time(name));
    const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
    const worstSilent = Math.max(...samples['probe, Hub silent']);
    const baseline = m['node -e 0'] + m['python3 python-env.py'];
    const fmt = (ms) => `${ms.toFixed(0)} ms`;
    const verdict = (ok) => (ok ? 'meets goal' : 'MISSES goal');
    console.log(
      `medians of ${runs} interleaved runs (${process.platform}, node ${process.version}, ${python})`,
    );
    for (const [name, value] of Object.entries(m)) console.log(`  ${name.padEnd(24)} ${fmt(value)}`);
    console.log('');
    for (const name of ['probe, Hub asked', 'probe, Hub remembered']) {
      const ratio = m[name] / baseline;
      console.log(
        `${name} / (node -e 0 + python3 probe script) = ${fmt(m[name])} / ${fmt(baseline)} = ${ratio.toFixed(2)} (goal <= 1.5: ${verdict(ratio <= 1.5)})`,
      );
    }
    console.log(
      `probe, Hub silent − probe, Hub remembered = ${fmt(m['probe, Hub silent'] - m['probe, Hub remembered'])} (what a silent Hub adds; bounded by 1.5 s)`,
    );
    console.log(
      `probe, Hub silent = ${fmt(m['probe, Hub silent'])} median, ${fmt(worstSilent)} worst (goal < 2 s: ${verdict(worstSilent < 2000)})`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
    hubChild.stdin.end();
    rmSync(scratch, { recursive: true, force: true });
  }
}
