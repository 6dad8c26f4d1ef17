import { execa, type ResultPromise } from 'execa';
import { BIN } from '../helpers/cli.js';

/** `atomr-infer serve` as its own process (the built CLI), for the hostile end-to-end cases. */

export interface ServeProcess {
  process: ResultPromise;
  /** e.g. `http://127.0.0.1:41234` (no `/v1`). */
  origin: string;
  stderr: () => string;
}

/** Starts `serve --port 0 …` and resolves once its JSON log says "serving". */
export async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = execa(process.execPath, [BIN, 'serve', '--port', '0', '--log-format', 'json', ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  let stderr = '';
  const origin = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'serving' && entry.url) resolve(entry.url.replace(/\/v1$/, ''));
      }
    });
    void child.then((result) => reject(new Error(`serve exited early (${result.exitCode}): ${stderr}`)));
  });
  return { process: child, origin, stderr: () => stderr };
}
