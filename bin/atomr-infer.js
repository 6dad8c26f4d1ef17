#!/usr/bin/env node
// The only place that catches errors and chooses the exit code (see src/core/exit-codes.ts).
import { main } from '../dist/cli/main.js';
import { AtomrError } from '../dist/core/errors.js';
import { defaultHint } from '../dist/core/exit-codes.js';
import { redactSecrets } from '../dist/core/secrets.js';
import { configureForcedExit } from '../dist/core/stop-signals.js';
import { capYoungGeneration } from '../dist/cli/young-generation.js';

// V8's nursery stays at a plain node-llama-cpp script's size (src/cli/young-generation.ts says why). Set at run
// time rather than as `--max-semi-space-size` on the shebang: `env -S` does not exist in BusyBox (Alpine).
capYoungGeneration();

// The stop policy (src/core/stop-signals.ts): a second SIGINT/SIGTERM/SIGHUP leaves at once, and only here.
configureForcedExit((code) => process.exit(code));

// `atomr-infer … | head` closes the pipe early: end quietly, as shell tools do, instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error?.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const argv = process.argv;
const wantsJson = argv.includes('--json');

/** The subcommand that ran (the first argument that is not a flag), for hints that name its --help. */
function commandName() {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

/**
 * One line for every failure, then a hint: the error's own, else the exit code's (src/core/exit-codes.ts). A
 * failure that is not an AtomrError is a bug: still one line (its message), the stack only with
 * ATOMR_INFER_DEBUG=1.
 */
function report(error) {
  const known = error instanceof AtomrError;
  const debug = process.env.ATOMR_INFER_DEBUG === '1';
  const text = known ? error.message : String((debug ? error?.stack : error?.message) ?? error);
  const message = redactSecrets(text);
  const exitCode = known ? error.exitCode : 1;
  const ownHint = known ? error.hint : undefined;
  const fallback = defaultHint(exitCode, commandName());
  const hint = ownHint ? redactSecrets(ownHint) : fallback;
  if (wantsJson) {
    const payload = {
      error: { code: known ? error.code : 'unexpected', message, exitCode, ...(hint ? { hint } : {}) },
    };
    process.stdout.write(`${JSON.stringify(payload)}\n`);
  }
  process.stderr.write(`atomr-infer: ${known ? '' : 'unexpected error: '}${message}\n`);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  return exitCode;
}

let code;
try {
  code = await main(argv);
} catch (error) {
  code = report(error);
}
process.exitCode = code;
// A stray native handle (a llama.cpp thread pool, a Python bridge) must never keep the CLI alive after its
// work is done: give pending writes a moment, then leave. unref() lets a clean loop exit sooner.
setTimeout(() => process.exit(code), 1500).unref();
