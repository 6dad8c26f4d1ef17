import type * as NodeLlamaCppModule from 'node-llama-cpp';
import type { Llama, LlamaLogLevel } from 'node-llama-cpp';
import { RuntimeFailure } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';
import { withDependencyEnv } from './dependency-env.js';
import type { LlamaCppSettings } from './settings.js';

export type NodeLlamaCpp = typeof NodeLlamaCppModule;

/**
 * node-llama-cpp is loaded on first use only (importing it and initialising the backend costs ~0.5–0.8 s, which
 * `probe` and `--help` must never pay). One Llama per GPU choice per process, shared by every runner.
 *
 * llama.cpp's own log lines are kept in a small ring instead of being printed: they would tear the TUI, and
 * the interesting one (why a load failed) is attached to the error we raise instead.
 */
const LOG_RING = 40;
const logRing: Array<{ seq: number; line: string }> = [];
let logSeq = 0;
const llamas = new Map<string, Promise<Llama>>();
let modulePromise: Promise<NodeLlamaCpp> | undefined;

/** The one place node-llama-cpp is imported: with the environment it can parse (see dependency-env.ts). */
export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  modulePromise ??= withDependencyEnv(() => import('node-llama-cpp'));
  return modulePromise;
}

function remember(level: LlamaLogLevel, message: string): void {
  if (level !== 'error' && level !== 'warn') return;
  const line = redactSecrets(message.trim());
  if (!line) return;
  logRing.push({ seq: ++logSeq, line });
  if (logRing.length > LOG_RING) logRing.shift();
}

/** A position in llama.cpp's log, to ask later what was logged after it. */
export function logMark(): number {
  return logSeq;
}

/** The llama.cpp error/warning lines logged after `mark`. */
export function logLinesSince(mark: number): string[] {
  return logRing.filter((entry) => entry.seq > mark).map((entry) => entry.line);
}

export function getEngine(gpu: LlamaCppSettings['gpu'] = 'auto'): Promise<Llama> {
  const key = String(gpu);
  let llama = llamas.get(key);
  if (!llama) {
    // getLlama() may fork a child that imports node-llama-cpp again to test the binary: same environment.
    llama = withDependencyEnv(async () => {
      const nlc = await loadNodeLlamaCpp();
      try {
        return await nlc.getLlama({
          // A fallback source build takes minutes and needs a toolchain: use the shipped binaries or fail.
          build: 'never',
          gpu,
          logLevel: nlc.LlamaLogLevel.warn,
          logger: remember,
        });
      } catch (error) {
        llamas.delete(key);
        const detail = redactSecrets(error instanceof Error ? error.message : String(error)).split('\n')[0];
        throw new RuntimeFailure(`node-llama-cpp could not start llama.cpp (gpu: ${key}): ${detail}`, {
          hint:
            gpu === 'auto' || gpu === false
              ? 'Reinstall atomr-infer so its prebuilt llama.cpp binaries are present.'
              : `Try gpu: "auto" (or false for CPU) — the ${key} binaries did not load on this machine.`,
          cause: error,
        });
      }
    });
    llamas.set(key, llama);
  }
  return llama;
}
