import type { RunnerSpec } from './model-runner.js';

/**
 * What the one target resolver (src/cli/target/resolve.ts) decides for chat, serve and bench: which runner
 * runs which model with which settings, and the names it answers to. Here, in core, because serve and bench
 * sit beside the CLI and take the resolver as a function (they never import src/cli).
 */
export interface ResolvedTarget {
  spec: RunnerSpec;
  /** The model as users see it: the chat header, serve's model id in `/v1/models`, bench's table. */
  label: string;
  /** Other names serve accepts as `model` (the deployment name, the file name). */
  aliases: string[];
  /** `undefined`: the runner decides (describe().mode), e.g. for a bare GGUF file. */
  mode: 'chat' | 'completion' | undefined;
  source: 'gguf-path' | 'catalog' | 'deployment' | 'remote';
}

/**
 * Resolves the target for `parallel` simultaneous answers (1 for chat). A catalog model that is not cached yet
 * is downloaded on the way; `signal` (the command's StopSignals) stops that download, keeping the partial file.
 */
export type TargetResolver = (parallel: number, signal?: AbortSignal) => Promise<ResolvedTarget>;
