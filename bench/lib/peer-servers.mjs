// The two servers the peer benchmarks compare, started the same way: `atomr-infer serve` as installed, and
// llama.cpp's own `llama-server` from the peer build (bench/lib/llama-peer-build.mjs), both on 1 thread with as
// many slots as asked and the same context per slot; and one streamed chat answer, timed from the client.
/* global fetch, Buffer */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_SAMPLING, CLI_ARGV } from './measure.mjs';

/**
 * Which node-llama-cpp binary `serve` will load: its portable prebuilt one, or a local build made with
 * `npx --no node-llama-cpp source download --gpu false` (native to this CPU, as the peer build is).
 */
export async function engineBinary() {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', gpu: false });
  const kind =
    llama.buildType === 'localBuild' ? 'a local build (native to this CPU)' : 'the prebuilt binary';
  await llama.dispose();
  return kind;
}

/** The peer benchmarks' prompt: numbered, so answers differ from request to request. */
export const peerPrompt = (i) => `Tell me story number ${i} about the sea.`;

/** Context per slot: each side gets the same KV cache per sequence. */
export const CTX_PER_SLOT = 1024;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Starts a server process and resolves once `/health` answers 200. */
async function startServer(name, command, args, port, model) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (data) => {
    log = (log + data).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${log}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { name, base, model: basename(model), pid: child.pid, stop: () => stopProcess(child) };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become healthy: ${log}`);
}

/** `atomr-infer serve` as installed; `logLevel` 'info' logs every request, as a user's server does by default. */
export async function startOurs(model, slots, { logLevel = 'warn' } = {}) {
  const port = await freePort();
  const args = [...CLI_ARGV.slice(1), 'serve', '--model', model, '--threads', '1'];
  args.push('--parallel', String(slots), '--ctx', String(CTX_PER_SLOT), '--port', String(port));
  args.push('--queue', '100', '--log-level', logLevel, '--log-format', 'json');
  return startServer('atomr-infer', process.execPath, args, port, model);
}

export async function startPeer(serverBinary, model, slots) {
  const port = await freePort();
  // -c is the whole KV cache in llama-server: slots × the per-slot context ours gets from --ctx.
  const args = ['-m', model, '-t', '1', '-tb', '1', '-np', String(slots), '-c', String(slots * CTX_PER_SLOT)];
  args.push('--port', String(port), '--host', '127.0.0.1', '--no-webui', '--log-disable');
  return startServer('llama-server', serverBinary, args, port, model);
}

/**
 * One streamed chat answer, which must end with `data: [DONE]`. Returns TTFT (ms), the completion tokens its usage
 * chunk reports, the client-side time per token after the first (first to last text chunk), and llama-server's own
 * figure for the same when it sends one (`timings.predicted_per_token_ms`). Read with node:http and Buffer search rather than fetch's web
 * streams: the client shares the two cores with the server it measures.
 */
export function streamOne(server, i, { maxTokens, prompt = peerPrompt(i) }) {
  const body = JSON.stringify({
    model: server.model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: maxTokens,
    temperature: BENCH_SAMPLING.temperature,
    top_k: BENCH_SAMPLING.topK,
    top_p: BENCH_SAMPLING.topP,
    seed: i,
    stream: true,
    stream_options: { include_usage: true },
  });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.base}/v1/chat/completions`,
      // A fresh connection per request: a kept-alive socket the server has since closed would fail the round.
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (response) => {
        const chunks = [];
        let firstText;
        let lastText;
        response.on('data', (chunk) => {
          if (/"content":"[^"]/.test(chunk.toString('latin1'))) {
            lastText = performance.now();
            firstText ??= lastText;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) {
            reject(new Error(`${server.name}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          if (!text.trimEnd().endsWith('data: [DONE]')) {
            reject(new Error(`${server.name}: the stream did not end with [DONE]`));
            return;
          }
          const usage = /"completion_tokens":(\d+)/.exec(text.slice(text.lastIndexOf('"usage"')));
          if (!usage) {
            reject(new Error(`${server.name}: no usage chunk`));
            return;
          }
          const tokens = Number(usage[1]);
          const ownFigure = /"predicted_per_token_ms":([\d.]+)/.exec(
            text.slice(text.lastIndexOf('"timings"')),
          );
          resolve({
            ttft: (firstText ?? performance.now()) - start,
            tokens,
            msPerToken:
              tokens > 1 && lastText > firstText ? (lastText - firstText) / (tokens - 1) : undefined,
            serverMsPerToken: ownFigure ? Number(ownFigure[1]) : undefined,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
