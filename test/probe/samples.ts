import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sample outputs kept in probes/samples/ (see probes/samples/README.md). */
export const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../probes/samples');

export function sample(name: string): string {
  return readFileSync(join(SAMPLES_DIR, name), 'utf8');
}

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO_ROOT, 'bin/atomr-infer.js');
