import { InterruptedError } from '../../core/errors.js';

/**
 * Ctrl-C during a download: abort the work (the partial blob stays for the next run to resume), then report
 * InterruptedError (exit 130). A second Ctrl-C is left to Node's default handler and ends the process at once.
 */
export async function withSigintAbort<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = (): void => {
    process.removeListener('SIGINT', onSigint);
    controller.abort(new InterruptedError('interrupted; run the same command again to resume the download'));
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
