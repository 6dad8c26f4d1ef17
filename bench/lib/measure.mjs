// Shared bench helpers: a decode meter measured the same way everywhere (TTFT = call → first text delta;
// decode tok/s = (tokens − 1) / (last delta − first delta)), peak RSS, child-process isolation and medians.
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The command's entry point: what npm links `atomr-infer` to. */
export const BIN = join(ROOT, 'bin', 'atomr-infer.js');

/**
 * argv that runs the CLI as installed: [this very node, BIN]. The installed command takes no Node flags on its
 * shebang (what it needs, the young-generation cap, it sets at run time: src/cli/young-generation.ts), so this is
 * what a user runs.
 */
export const CLI_ARGV = Object.freeze([process.execPath, BIN]);

/** The prompt, sampling and budget every llama.cpp comparison uses (identical for raw and runner). */
export const BENCH_PROMPT = 'Tell me a long story about the sea.';
export const BENCH_SAMPLING = Object.freeze({ temperature: 1, topK: 64, topP: 0.95, seed: 1 });

export function createMeter(now = () => performance.now()) {
  const startedAt = now();
  let first;
  let last;
  let deltas = 0;
  return {
    tick() {
      const at = now();
      first ??= at;
      last = at;
      deltas++;
    },
    result(tokens) {
      const decodeSeconds = first === undefined || last === undefined ? 0 : (last - first) / 1000;
      return {
        tokens,
        deltas,
        ttftMs: first === undefined ? undefined : first - startedAt,
        tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : undefined,
        totalMs: now() - startedAt,
      };
    },
  };
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB() {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs `script` in a fresh Node process with `options` (JSON in argv) and returns the JSON object it prints on
 * its last stdout line. Each measurement gets its own process so peak RSS and warm-up never leak between them.
 */
export function runInChild(script, options, { timeoutMs = 600_000 } = {}) {
  const child = spawnSync(process.execPath, [script, JSON.stringify(options)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (child.stdout ?? '').trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (child.status !== 0 || !last.startsWith('{')) {
    throw new Error(
      `${script} failed (${child.status ?? child.signal}): ${(child.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  return JSON.parse(last);
}

/** True when this module file is the script node was started with. */
export function isMain(importMetaUrl) {
  return process.argv[1] !== undefined && fileURLToPath(importMetaUrl) === process.argv[1];
}

/** A numeric command-line argument of a bench script (`--tokens 600`), or `fallback`. */
export function argument(name, fallback) {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Writes the bench's tiny model (the test generator, same seed ⇒ same bytes) and returns its path. */
export async function writeBenchModel({ arch = 'gemma4', seed = 1 } = {}) {
  const { writeTinyGguf } = await import('../../test/helpers/gguf/index.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'atomr-llamacpp-bench-'));
  return writeTinyGguf({ arch, seed, endOfTurn: 'never', path: join(dir, `bench-${arch}.gguf`) });
}
