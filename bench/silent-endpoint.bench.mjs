#!/usr/bin/env node
// `npm run bench -- silent`: how long `pull` (Hub) and `provision --runtime remote` take to give up on an endpoint
// that accepts TCP connections and never sends a byte (a hung server, a black-holing proxy), with the default
// timeouts, and how many requests it received. Issue 9, item 4: before the two-phase timeouts this was 157 s (Hub,
// 5 tries of 30 s) and 123 s (remote, 4 tries of 30 s). Needs dist/ (npm run build). Takes about a minute.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI_ARGV } from './lib/measure.mjs';

/** A TCP server that accepts and stays silent; counts connections that sent a request. */
async function silentServer() {
  const sockets = new Set();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => requests++);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests: () => requests,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function measure(label, args) {
  const server = await silentServer();
  const dir = await mkdtemp(join(tmpdir(), 'atomr-silent-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    HF_HOME: join(dir, 'hf'),
    HF_HUB_CACHE: join(dir, 'hub'),
    ATOMR_INFER_HOME: join(dir, 'state'),
    HF_ENDPOINT: server.url,
  };
  const started = performance.now();
  const child = spawn(CLI_ARGV[0], [...CLI_ARGV.slice(1), ...args(server.url)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const requests = server.requests();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  const line = stderr.split('\n').find((text) => text.startsWith('atomr-infer: ')) ?? '';
  console.log(`${label.padEnd(34)} exit ${code}  ${seconds.toFixed(1).padStart(5)} s  ${requests} requests`);
  console.log(`  ${line}`);
}

await measure('pull (Hub, nothing cached)', () => [
  'pull',
  '--model',
  'google/gemma-4-E2B-it',
  '--runtime',
  'llama-cpp',
]);
await measure('provision --runtime remote', (url) => [
  'provision',
  '--runtime',
  'remote',
  '--endpoint',
  `${url}/v1`,
  '--model',
  'm',
]);
