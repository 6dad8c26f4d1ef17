import { execa, type ResultPromise } from 'execa';
import { BIN } from '../helpers/cli.js';

/** `atomr-infer serve` as its own process (the built CLI), for the hostile end-to-end cases. */

export interface ServeProcess {
  process: ResultPromise;
  /** e.g. `http://127.0.0.1:41234` (no `/v1`). */
  origin: string;
  stderr: () => string;
}

/** The JSON log lines `serve` has written so far (stderr that is not a terminal gets JSON). */
function logEntries(stderr: string): { msg?: string; url?: string }[] {
  // Only whole lines: the last element is what has arrived of the next one.
  return stderr
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; url?: string });
}

/** Starts `serve --port 0 --log-format json …` without waiting for anything. */
export function spawnServe(args: string[], env: NodeJS.ProcessEnv): ResultPromise {
  return execa(process.execPath, [BIN, 'serve', '--port', '0', '--log-format', 'json', ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 120_000,
    // execa follows kill('SIGTERM') with SIGKILL after 5 s by default: far too soon for a shutdown that lets
    // running answers finish on a busy machine.
    forceKillAfterDelay: 60_000,
  });
}

/**
 * Resolves once `serve` has logged `msg` (default "serving", which carries the URL); rejects if it exits first.
 * For "loading model" the origin is empty: the URL is only logged once the model is ready.
 */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv,
  msg = 'serving',
): Promise<ServeProcess> {
  const child = spawnServe(args, env);
  let stderr = '';
  const origin = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      const entry = logEntries(stderr).find((e) => e.msg === msg);
      if (entry) resolve(entry.url?.replace(/\/v1$/, '') ?? '');
    });
    void child.then((result) => reject(new Error(`serve exited early (${result.exitCode}): ${stderr}`)));
  });
  return { process: child, origin, stderr: () => stderr };
}
