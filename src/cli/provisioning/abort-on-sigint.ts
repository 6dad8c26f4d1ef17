import { StopSignals } from '../../core/stop-signals.js';

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
    if (stop.signal.aborted) {
      throw stop.interrupted('interrupted; run the same command again to resume the download');
    }
    throw error;
  } finally {
    stop.dispose();
  }
}
