import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/core/errors.js';
import { configureForcedExit, signalExitCode, StopSignals } from '../../src/core/stop-signals.js';

/**
 * The one stop policy, driven by real process signal events (process.emit calls the same listeners a delivered
 * signal does, without ending the test runner): the first stops gracefully with the signal's code, the second
 * leaves at once through the forced exit bin/ configures.
 */
let held: StopSignals | undefined;
afterEach(() => held?.dispose());

function hold(options?: ConstructorParameters<typeof StopSignals>[0]): {
  stop: StopSignals;
  exits: number[];
} {
  const exits: number[] = [];
  configureForcedExit((code) => exits.push(code));
  held = new StopSignals(options);
  return { stop: held, exits };
}

describe('StopSignals', () => {
  it('maps each signal to the code a shell reports: 130 SIGINT, 143 SIGTERM, 129 SIGHUP', () => {
    expect([signalExitCode('SIGINT'), signalExitCode('SIGTERM'), signalExitCode('SIGHUP')]).toEqual([
      130, 143, 129,
    ]);
  });

  it('the first signal aborts the work with an InterruptedError carrying its code; nothing exits', async () => {
    const { stop, exits } = hold();
    const seen: string[] = [];
    stop.onStop((signal) => seen.push(signal));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await stop.first).toBe('SIGTERM');
    expect(stop.signal.aborted).toBe(true);
    expect(stop.signal.reason).toBeInstanceOf(InterruptedError);
    expect((stop.signal.reason as InterruptedError).exitCode).toBe(143);
    expect(stop.exitCode).toBe(143);
    expect(stop.interrupted('bench interrupted').exitCode).toBe(143);
    expect(seen).toEqual(['SIGTERM']);
    expect(exits).toEqual([]);
  });

  it('a second signal leaves at once with its own code', () => {
    const { stop, exits } = hold();
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGINT', 'SIGINT');
    expect(stop.exitCode).toBe(129);
    expect(exits).toEqual([130]);
  });

  it('a listener added after the signal is called at once', () => {
    const { stop } = hold();
    process.emit('SIGINT', 'SIGINT');
    const seen: string[] = [];
    stop.onStop((signal) => seen.push(signal));
    expect(seen).toEqual(['SIGINT']);
  });

  it('SIGINT can mean something else first (the TUI: stop the answer); it counts only when not consumed', () => {
    let answering = true;
    const { stop, exits } = hold({
      consumeInterrupt: () => {
        const was = answering;
        answering = false;
        return was;
      },
    });
    process.emit('SIGINT', 'SIGINT');
    expect(stop.signal.aborted).toBe(false);
    process.emit('SIGINT', 'SIGINT');
    expect(stop.exitCode).toBe(130);
    expect(exits).toEqual([]);
  });

  it('after dispose the command no longer holds the signals', () => {
    const { stop } = hold();
    const before = process.listenerCount('SIGTERM');
    stop.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before - 1);
  });
});
