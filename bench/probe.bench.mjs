#!/usr/bin/env node
// `npm run bench -- probe`: how fast and how lean `atomr-infer probe` and `--help` are.
//   probe --json  vs  node -e 0 + one python3 spawn of probes/python-env.py   (goal: ratio <= 1.5)
//   --help        vs  node -e 0                                             (goal: ratio <= 2.5)
//   probe peak RSS of the Node process                                       (goal: <= 80 MB)
// Medians of BENCH_RUNS (default 15) interleaved runs after 2 warm-ups, so background load hits every
// command alike. Run `npm run build` first: it measures dist/. It prints figures; it never fails on them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ARGV, median } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The CLI as installed (CLI_ARGV: this node, then bin/atomr-infer.js).
const cli = CLI_ARGV.slice(1);
const script = join(root, 'probes', 'python-env.py');
const runs = Math.max(10, Number(process.env.BENCH_RUNS) || 15);
const python = process.env.ATOMR_INFER_PYTHON?.trim() || 'python3';

// A preload that records the Node process's peak RSS (process.resourceUsage().maxRSS is in KiB) at exit.
const scratch = mkdtempSync(join(tmpdir(), 'atomr-bench-'));
const hook = join(scratch, 'rss-hook.mjs');
writeFileSync(
  hook,
  "import { appendFileSync } from 'node:fs';\n" +
    "process.on('exit', () => appendFileSync(process.env.ATOMR_BENCH_RSS_FILE, `${process.resourceUsage().maxRSS}\\n`));\n",
);
const rssFile = join(scratch, 'rss.txt');

const commands = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'python3 python-env.py': [python, [script]],
  'probe --json': [process.execPath, ['--import', hook, ...cli, 'probe', '--json']],
  '--help': [process.execPath, [...cli, '--help']],
};

function time(name) {
  const [file, args] = commands[name];
  const started = process.hrtime.bigint();
  const result = spawnSync(file, args, {
    encoding: 'utf8',
    env: { ...process.env, ATOMR_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.error) throw new Error(`${name}: ${result.error.message}`);
  if (name === 'probe --json' && ![0, 3].includes(result.status)) {
    throw new Error(`probe exited ${result.status}: ${result.stderr}`);
  }
  return { ms, stdout: result.stdout };
}

for (let i = 0; i < 2; i++) for (const name of Object.keys(commands)) time(name);
rmSync(rssFile, { force: true });

const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
const internal = [];
for (let i = 0; i < runs; i++) {
  for (const name of Object.keys(commands)) {
    const { ms, stdout } = time(name);
    samples[name].push(ms);
    if (name === 'probe --json') internal.push(JSON.parse(stdout).elapsedMs);
  }
}

const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
const rssMb = readFileSync(rssFile, 'utf8')
  .trim()
  .split('\n')
  .map((kib) => Number(kib) / 1024);
rmSync(scratch, { recursive: true, force: true });

const baseline = m['node -e 0'] + m['python3 python-env.py'];
const probeRatio = m['probe --json'] / baseline;
const helpRatio = m['--help'] / m['node -e 0'];
const peakRss = Math.max(...rssMb);
const verdict = (ok) => (ok ? 'meets goal' : 'MISSES goal');
const fmt = (ms) => `${ms.toFixed(0)} ms`;

console.log(`medians of ${runs} interleaved runs (${process.platform}, node ${process.version}, ${python})`);
for (const [name, value] of Object.entries(m)) console.log(`  ${name.padEnd(24)} ${fmt(value)}`);
console.log(`  probe's own elapsedMs      ${fmt(median(internal))} (median, from the JSON report)`);
console.log('');
console.log(
  `probe --json / (node -e 0 + python3 probe script) = ${fmt(m['probe --json'])} / ${fmt(baseline)} = ${probeRatio.toFixed(2)} (goal <= 1.5: ${verdict(probeRatio <= 1.5)})`,
);
console.log(
  `--help / node -e 0 = ${fmt(m['--help'])} / ${fmt(m['node -e 0'])} = ${helpRatio.toFixed(2)} (goal <= 2.5: ${verdict(helpRatio <= 2.5)})`,
);
console.log(
  `probe peak RSS = ${peakRss.toFixed(1)} MB max, ${median(rssMb).toFixed(1)} MB median (goal <= 80 MB: ${verdict(peakRss <= 80)})`,
);
