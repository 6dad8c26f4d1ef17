#!/usr/bin/env node
// postinstall: a six-line patch to node-llama-cpp's decode loop, applied to the installed copy (docs/serve.md,
// "The context lock"). node-llama-cpp's LlamaContext holds its context lock for as long as any sequence keeps
// queuing tokens; erasing a finished slot needs that lock, so under rolling load a new request waited for every
// running answer to end (first token 5.9 s vs llama-server's 0.9 s, measured). The patch lets the loop end after
// a batch while `_yieldLockRequested` is set, then restarts it on the next turn of the event loop, so the erase
// waiting for the lock runs between two batches. Only atomr-infer sets the flag, and only while it clears a slot:
// anyone else using this node-llama-cpp sees no change.
//
// It never fails an install: on a node-llama-cpp whose code differs (another version), it leaves the file alone
// and says so in one line; `serve` then still works, with the wait described above.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MARKER = '_yieldLockRequested';
const ORIGINAL = `                    try {
                        await decodeTokenBatchItems(currentBatchItems, currentBatchSize);
                        shouldHaveAnotherLoop = this._queuedDecodes.length > 0;
                    }`;
const PATCHED = `                    try {
                        await decodeTokenBatchItems(currentBatchItems, currentBatchSize);
                        shouldHaveAnotherLoop = this._queuedDecodes.length > 0;
                        // atomr-infer patch (patches/node-llama-cpp-yield-context-lock.mjs): end this run of the loop
                        // so an erase waiting for the context lock goes between two batches, then carry on.
                        if (shouldHaveAnotherLoop && this.${MARKER}) {
                            shouldHaveAnotherLoop = false;
                            setImmediate(() => this._scheduleDecode());
                        }
                    }`;

/** Patches the installed node-llama-cpp; returns what it did, never throws. */
export function patchNodeLlamaCpp() {
  try {
    const entry = fileURLToPath(import.meta.resolve('node-llama-cpp'));
    const file = entry.replace(/index\.js$/, 'evaluator/LlamaContext/LlamaContext.js');
    const source = readFileSync(file, 'utf8');
    if (source.includes(MARKER)) return 'already patched';
    if (source.split(ORIGINAL).length !== 2) return `not patched: ${file} is not the code the patch is for`;
    writeFileSync(file, source.replace(ORIGINAL, PATCHED));
    return 'patched';
  } catch (error) {
    return `not patched: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outcome = patchNodeLlamaCpp();
  if (outcome.startsWith('not patched')) {
    console.warn(
      `atomr-infer: node-llama-cpp's decode-loop patch ${outcome}; serve works, but a request arriving while ` +
        'others stream may wait for them (see docs/serve.md)',
    );
  }
}
