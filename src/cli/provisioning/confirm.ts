import { createInterface } from 'node:readline';
import { InterruptedError } from '../../core/errors.js';

export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A person is there to answer: both the keyboard and the screen are terminals. */
export function isInteractive(streams: PromptStreams): boolean {
  return streams.input.isTTY === true && streams.output.isTTY === true;
}

/** Asks a yes/no question (Enter = yes). Ctrl-C or Ctrl-D while asking is an interruption, not a "no". */
export function askYesNo(question: string, streams: PromptStreams): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: streams.input, output: streams.output, terminal: true });
    let answered = false;
    rl.on('SIGINT', () => {
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) {
        streams.output.write('\n');
        reject(new InterruptedError());
      }
    });
    rl.question(`${question} [Y/n] `, (answer) => {
      answered = true;
      rl.close();
      resolve(!/^\s*n(o)?\s*$/i.test(answer));
    });
  });
}
