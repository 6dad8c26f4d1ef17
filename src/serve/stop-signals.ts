import { ExitCode } from '../core/exit-codes.js';

/**
 * SIGINT and SIGTERM for `serve`, caught from the moment the command starts (before the server code has even
 * loaded), so a signal at any phase (resolving the model, binding the port, loading, serving) is the documented
 * clean stop that exits 0. Before, a signal that came before the server listened met Node's default and killed
 * the process (143). The first signal drains, a second aborts the answers still running, a third leaves at once
 * with 130 (e.g. while a large model is still loading, which cannot be interrupted).
 */
export class StopSignals {
  private count = 0;
  private listener: (() => void) | undefined;
  private resolveFirst!: () => void;
  /** Resolves at the first signal. */
  readonly first: Promise<void>;

  constructor() {
    this.first = new Promise((resolve) => {
      this.resolveFirst = resolve;
    });
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** How many signals have arrived so far. */
  get received(): number {
    return this.count;
  }

  /** Calls `listener` at every signal from now on (once the server exists to be stopped). */
  onEach(listener: () => void): void {
    this.listener = listener;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private readonly onSignal = (): void => {
    this.count++;
    if (this.count >= 3) process.exit(ExitCode.Interrupted);
    this.resolveFirst();
    this.listener?.();
  };
}
