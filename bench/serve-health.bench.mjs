#!/usr/bin/env node
// `npm run bench -- serve-health`: does one pathological request stall the whole server? (issue 9, item 3)
//
// `serve` runs as its own process (the built CLI, tiny generated GGUF, 1 thread, as a user runs it). While one
// chat request with N short messages is in flight, a client polls `/health` back to back on a kept-alive socket
// and records each answer's latency. Printed per N: `/health` p50 / p99 / max while the request ran, how many
// health checks got through, the pathological request's own status and duration, and, first, the idle p50 / p99.
// `/health` should stay at its idle latency however large N is (the request is handled or refused, not stalling).
// HEALTH_BENCH_SIZES (comma-separated message counts) overrides the sizes; each size is sent HEALTH_BENCH_ROUNDS
// times (default 5), one after another, and the figures cover every round. Needs dist/ (npm run build).
// To compare with another version, give its checkout (built) as the first argument or SERVE_HEALTH_BENCH_ROOT:
//   node bench/serve-health.bench.mjs /tmp/serve-before
// The tiny model and this script come from this checkout; only the served CLI comes from there.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { writeTinyGguf } from '../test/helpers/gguf/index.mjs';

const root = resolve(
  process.argv[2] ??
    process.env.SERVE_HEALTH_BENCH_ROOT ??
    join(dirname(fileURLToPath(import.meta.url)), '..'),
);
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.log(`${root}/dist is missing: run \`npm run build\` there first`);
  process.exit(1);
}

const SIZES = (process.env.HEALTH_BENCH_SIZES ?? '2048,5000,20000,40000').split(',').map(Number);
const ROUNDS = Number(process.env.HEALTH_BENCH_ROUNDS ?? 5);
const IDLE_SAMPLES = 300;

const dir = mkdtempSync(join(tmpdir(), 'serve-health-bench-'));
const modelPath = await writeTinyGguf({ arch: 'gemma3', seed: 1, path: join(dir, 'tiny.gguf') });
const child = spawn(
  process.execPath,
  [join(root, 'bin/atomr-infer.js'), 'serve', '--model', modelPath, '--threads', '1', '--port', '0'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ATOMR_INFER_HOME: join(dir, 'state') } },
);
const base = await new Promise((resolve, reject) => {
  let log = '';
  child.stderr.on('data', (data) => {
    log += data;
    const serving = /"url":"([^"]+)".*"msg":"serving"|"msg":"serving".*"url":"([^"]+)"/.exec(log);
    if (serving) resolve(new URL(serving[1] ?? serving[2]));
  });
  child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${log}`)));
});

const health = new Agent({ keepAlive: true, maxSockets: 1 });
const other = new Agent({ keepAlive: false });

/** One HTTP request; resolves to { status, ms } once the whole body has arrived. */
function call(method, path, body, agent) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (n) => `${n.toFixed(n < 10 ? 2 : 0)} ms`.padStart(9);

function pathological(count) {
  const messages = Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    // ~43 bytes a message: 40,000 of them make the 1.7 MB body of the issue.
    content: `message ${i}`,
  }));
  return JSON.stringify({ model: 'tiny.gguf', messages, max_tokens: 1 });
}

try {
  const idle = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) idle.push((await call('GET', '/health', undefined, health)).ms);
  console.log(
    `serving ${root} · tiny GGUF · 1 thread · serve defaults (--parallel 4, 4096-token context per sequence)`,
  );
  console.log(
    `/health idle (${IDLE_SAMPLES} requests)${' '.repeat(21)}p50 ${ms(percentile(idle, 50))}  p99 ${ms(percentile(idle, 99))}`,
  );
  for (const count of SIZES) {
    const body = pathological(count);
    const latencies = [];
    const results = [];
    for (let round = 0; round < ROUNDS; round++) {
      let done = false;
      const heavy = call('POST', '/v1/chat/completions', body, other).finally(() => {
        done = true;
      });
      while (!done) latencies.push((await call('GET', '/health', undefined, health)).ms);
      results.push(await heavy);
    }
    const statuses = [...new Set(results.map((r) => r.status))].join('/');
    const took = percentile(
      results.map((r) => r.ms),
      50,
    );
    const size = `${(Buffer.byteLength(body) / 1024 / 1024).toFixed(2)} MB`;
    console.log(
      `${String(count).padStart(6)} messages (${size}) ×${ROUNDS}: HTTP ${statuses} in ${ms(took)} (median)  ` +
        `/health p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  ` +
        `max ${ms(Math.max(...latencies))}  (${latencies.length} checks)`,
    );
  }
} finally {
  health.destroy();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
