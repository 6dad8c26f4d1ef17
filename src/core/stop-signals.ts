import { InterruptedError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * The one stop policy for every command (README "Signals"). Commands never install their own SIGINT, SIGTERM
 * or SIGHUP handlers; they hold a StopSignals for as long as they run:
 *
 * - The first signal stops gracefully: `signal` aborts (the answer, the download, the bench level in flight),
 *   `first` resolves, and the command then frees the model, keeps files consistent (a partial download stays
 *   for resume) and ends with the signal's code — 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, as shells
 *   report them. `serve`, whose normal end *is* a signal, drains and exits 0 instead.
 * - A second signal leaves at once with its code, whatever is still running (a model load that cannot be
 *   interrupted, a stuck engine). The exit itself is bin/'s (see configureForcedExit): src/ never exits.
 *
 * Catching the signals for the whole command (not only while it generates) is what makes a signal during a
 * model load, a download or a port bind the same clean stop as one during an answer.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** 128 + the signal number, as shells report a process a signal ended. */
export function signalExitCode(signal: StopSignal): ExitCodeValue {
  switch (signal) {
    case 'SIGHUP':
      return ExitCode.HangUp;
    case 'SIGINT':
      return ExitCode.Interrupted;
    case 'SIGTERM':
      return ExitCode.Terminated;
  }
}

/** How a second signal ends the process; bin/ sets process.exit. */
let forcedExit: (code: number, signal: StopSignal) => void = (_code, signal) => {
  // Not started through bin/ (a test, an embedding program): give the signal back its default action.
  for (const name of STOP_SIGNALS) process.removeAllListeners(name);
  process.kill(process.pid, signal);
};

/** bin/ calls this once: a second signal ends the process with `exit(code)`. */
export function configureForcedExit(exit: (code: number) => void): void {
  forcedExit = (code) => exit(code);
}

export interface StopSignalsOptions {
  /**
   * Gives SIGINT a meaning of its own before it counts as a stop: the TUI treats `kill -INT` like the Ctrl-C key
   * (stop the answer; leave only when idle). Returns true when it handled the signal.
   */
  consumeInterrupt?: () => boolean;
}

export class StopSignals {
  private count = 0;
  private stopSignal: StopSignal | undefined;
  private readonly controller = new AbortController();
  private readonly listeners = new Set<(signal: StopSignal) => void>();
  private resolveFirst!: (signal: StopSignal) => void;
  /** Resolves with the first stop signal. */
  readonly first: Promise<StopSignal>;

  constructor(private readonly options: StopSignalsOptions = {}) {
    this.first = new Promise((resolve) => {
      this.resolveFirst = resolve;
    });
    for (const name of STOP_SIGNALS) process.on(name, this.onSignal);
  }

  /** Aborted at the first signal; its reason is an InterruptedError carrying the signal's exit code. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stop signals received so far. */
  get received(): number {
    return this.count;
  }

  /** The first signal's exit code (130, 143, 129); undefined while none came. */
  get exitCode(): ExitCodeValue | undefined {
    return this.stopSignal === undefined ? undefined : signalExitCode(this.stopSignal);
  }

  /** Calls `listener` at the first signal, or now if it already came. */
  onStop(listener: (signal: StopSignal) => void): void {
    if (this.stopSignal !== undefined) listener(this.stopSignal);
    else this.listeners.add(listener);
  }

  /** An InterruptedError for the first signal (what a command throws when the work was stopped). */
  interrupted(message: string): InterruptedError {
    return new InterruptedError(message, this.exitCode ?? ExitCode.Interrupted);
  }

  dispose(): void {
    for (const name of STOP_SIGNALS) process.off(name, this.onSignal);
    this.listeners.clear();
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const name = signal as StopSignal;
    if (name === 'SIGINT' && this.count === 0 && this.options.consumeInterrupt?.() === true) return;
    this.count++;
    if (this.count > 1) {
      forcedExit(signalExitCode(name), name);
      return;
    }
    this.stopSignal = name;
    this.controller.abort(new InterruptedError('interrupted', signalExitCode(name)));
    this.resolveFirst(name);
    for (const listener of [...this.listeners]) listener(name);
    this.listeners.clear();
  };
}
