import { readdirSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Three projects, by what a test file needs (README "Development"). `npm test` runs all three;
 * `npm run test:unit` (`vitest run --project unit`) only the first.
 *
 * - unit: code in this process with test doubles and loopback fakes (fake Hub, fake OpenAI server, fake
 *   executables): no build, no llama.cpp, no Python. Threads sharing one module graph (isolating each file
 *   costs more than most of these files' tests); test/helpers/unit-setup.ts puts back process.env and the real
 *   timers after each file, so no file changes how the next one runs.
 * - engines: real llama.cpp (tiny generated GGUF files) or a real Python interpreter in this process. No build.
 * - cli: the built CLI (`bin/atomr-infer.js` → dist/), tmux, scripts that import dist/. Its global setup builds
 *   dist/ once (ATOMR_INFER_SKIP_TEST_BUILD=1 skips that); the CLI helpers refuse to run in another project.
 *
 * The folder decides, so a new file lands by where it lives; the lists name the few files whose folder says
 * otherwise.
 */
type Project = 'unit' | 'engines' | 'cli';

const CLI_FOLDERS = ['test/cli/', 'test/e2e/'];
const ENGINE_FOLDERS = ['test/runners/llamacpp/', 'test/runners/vllm/', 'test/serve/'];
const ELSEWHERE: Record<string, Project> = {
  // Run the built CLI or dist/.
  'test/probe/cli.test.ts': 'cli',
  'test/probe/secrets.test.ts': 'cli',
  'test/runners/vllm/process-exit.test.ts': 'cli',
  // Start real Python or llama.cpp.
  'test/hub/python-interop.test.ts': 'engines',
  'test/probe/gpu-python-facts.test.ts': 'engines',
  'test/runners/remote/remote-serve.test.ts': 'engines',
  // Pure code in a cli or engines folder.
  'test/cli/bench-report.test.ts': 'unit',
  'test/cli/pull-progress.test.ts': 'unit',
  'test/runners/llamacpp/channel.test.ts': 'unit',
  'test/serve/options.test.ts': 'unit',
  'test/serve/scheduler.test.ts': 'unit',
  'test/serve/http-errors.test.ts': 'unit',
  'test/runners/llamacpp/settings-threads.test.ts': 'unit',
  'test/runners/vllm/config.test.ts': 'unit',
  'test/runners/llamacpp/json-schema-subset.test.ts': 'unit',
  'test/runners/llamacpp/sequence-pool.test.ts': 'unit',
  'test/runners/llamacpp/batch-share.test.ts': 'unit',
};

function projectOf(file: string): Project {
  const listed = ELSEWHERE[file];
  if (listed) return listed;
  if (CLI_FOLDERS.some((folder) => file.startsWith(folder))) return 'cli';
  if (ENGINE_FOLDERS.some((folder) => file.startsWith(folder))) return 'engines';
  return 'unit';
}

const testDir = fileURLToPath(new URL('./test', import.meta.url));
const testFiles = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .map((relative) => `test/${relative.split(sep).join('/')}`)
  .filter((file) => /\.test\.tsx?$/.test(file));
const filesOf = (project: Project): string[] => testFiles.filter((file) => projectOf(file) === project);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: filesOf('unit'),
          pool: 'threads',
          isolate: false,
          setupFiles: ['test/helpers/unit-setup.ts'],
          unstubEnvs: true,
          unstubGlobals: true,
        },
      },
      {
        extends: true,
        // Native llama.cpp contexts and Python children: each file in a process of its own.
        test: { name: 'engines', include: filesOf('engines'), pool: 'forks' },
      },
      {
        extends: true,
        test: {
          name: 'cli',
          include: filesOf('cli'),
          globalSetup: ['test/global-setup.ts'],
          pool: 'forks',
        },
      },
    ],
  },
});
