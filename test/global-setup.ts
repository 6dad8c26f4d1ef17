import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Tests that spawn `bin/atomr-infer.js` need an up-to-date dist/: build it once per run. */
export default function setup(): void {
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
