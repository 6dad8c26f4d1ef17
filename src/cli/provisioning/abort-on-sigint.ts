import { InterruptedError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { StopSignals } from '../../core/stop-signals.js';

const RESUME = 'interrupted; run the same command again to resume the download';

/**
 * A download under the one stop policy (src/core/stop-signals.ts): the first SIGINT/SIGTERM/SIGHUP aborts the
 * work (the partial blob stays for the next run to resume) and reports an InterruptedError with the signal's
 * code (130, 143, 129); a second one leaves at once.
 */
export async function withSigintAbort<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new StopSignals();
  try {
    return await work(stop.signal);
  } catch (error) {
    if (stop.signal.aborted) throw stop.interrupted(RESUME);
    throw error;
  } finally {
    stop.dispose();
  }
}

/**
 * What a download that a command's own StopSignals stopped ends with (chat, serve and bench hold one for the
 * whole command): the signal's code, carried by the abort reason, and the resume hint.
 */
export function downloadInterrupted(signal: AbortSignal): InterruptedError {
  const reason: unknown = signal.reason;
  return new InterruptedError(
    RESUME,
    reason instanceof InterruptedError ? reason.exitCode : ExitCode.Interrupted,
  );
}
