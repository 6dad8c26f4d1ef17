import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import './helpers/built-cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The `cli` project's global setup: its tests spawn `bin/atomr-infer.js`, which runs dist/, so build dist/ once
 * per run. Tells the CLI helpers they run in this project (see requireBuiltCli).
 */
export default function setup(project: TestProject): void {
  project.provide('builtCli', true);
  if (process.env.ATOMR_INFER_SKIP_TEST_BUILD === '1') return;
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
