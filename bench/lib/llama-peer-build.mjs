// Builds llama.cpp's own `llama-server` and `llama-batched-bench` from the llama.cpp source node-llama-cpp ships
// (`llama/gitRelease.bundle`: the very commit our engine runs), CPU only, once, into a cache folder outside the
// repo. The peer benchmark compares `serve` against them; building from the same commit is what makes the
// comparison about how the engine is driven rather than about engine versions.
//
//   node bench/lib/llama-peer-build.mjs        # build (or report the cached build) and print the binaries' paths
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './measure.mjs';

const TARGETS = ['llama-server', 'llama-batched-bench'];

/** Where the bundled llama.cpp lives and which commit it is. */
export function bundledLlamaCpp() {
  const llamaDir = join(ROOT, 'node_modules', 'node-llama-cpp', 'llama');
  const bundle = join(llamaDir, 'gitRelease.bundle');
  if (!existsSync(bundle)) return { missing: `${bundle} is missing (is node-llama-cpp installed?)` };
  const heads = spawnSync('git', ['bundle', 'list-heads', bundle], { encoding: 'utf8' });
  const commit = heads.stdout?.split(/\s+/)[0];
  if (heads.status !== 0 || !/^[0-9a-f]{40}$/.test(commit ?? '')) return { missing: `cannot read ${bundle}` };
  const nodeLlamaCppVersion = JSON.parse(readFileSync(join(llamaDir, '..', 'package.json'), 'utf8')).version;
  return { bundle, commit, nodeLlamaCppVersion };
}

/**
 * Runs the peer build's `llama-batched-bench` on `model`, 1 thread, a 32-token prompt and `tokens` generated per
 * sequence, and returns its decode tok/s (the S_TG column) for each count in `sequences`: `{ [count]: tok/s }`.
 * A count it printed no row for is missing.
 */
export function runBatchedBench(binary, model, { sequences, tokens, contextSize }) {
  const args = ['-m', model, '-c', String(contextSize), '-b', '2048', '-ub', '512'];
  args.push('-npp', '32', '-ntg', String(tokens), '-npl', sequences.join(','), '-t', '1');
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  const rows = (result.stdout ?? '')
    .split('\n')
    .filter((line) => /^\|\s+\d+/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  // Columns: PP, TG, B, N_KV, T_PP, S_PP, T_TG, S_TG, T, S.
  return Object.fromEntries(rows.map((cells) => [Number(cells[3]), Number(cells[8])]));
}

/** The cache folder: $ATOMR_INFER_PEER_CACHE, else ~/.cache/atomr-infer/llama-peer/<commit>. */
export function peerCacheDir(commit) {
  const base =
    process.env.ATOMR_INFER_PEER_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'atomr-infer', 'llama-peer');
  return join(base, commit.slice(0, 12));
}

function missingTool() {
  for (const tool of ['git', 'cmake', 'c++']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return tool;
  }
  return undefined;
}

/**
 * Returns `{ server, batchedBench, commit }` once both binaries exist (building them the first time, which takes
 * ~25 min on 2 cores), or `{ skipped }` with a reason a user can act on.
 */
export function ensurePeerBuild({ log = (line) => console.log(line) } = {}) {
  const source = bundledLlamaCpp();
  if (source.missing) return { skipped: source.missing };
  const dir = peerCacheDir(source.commit);
  const bin = join(dir, 'build', 'bin');
  const binaries = { server: join(bin, 'llama-server'), batchedBench: join(bin, 'llama-batched-bench') };
  const done = () => ({ ...binaries, commit: source.commit, dir });
  if (existsSync(binaries.server) && existsSync(binaries.batchedBench)) return done();

  const tool = missingTool();
  if (tool)
    return { skipped: `${tool} is not installed: the peer build needs git, cmake and a C++ compiler` };

  const src = join(dir, 'src');
  const run = (command, args, cwd) => {
    log(`$ ${command} ${args.join(' ')}`);
    const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0)
      throw new Error(`${command} ${args[0]} failed (exit ${result.status ?? result.signal})`);
  };
  mkdirSync(dir, { recursive: true });
  log(
    `building llama-server and llama-batched-bench from node-llama-cpp ${source.nodeLlamaCppVersion}'s bundled`,
  );
  log(`llama.cpp ${source.commit.slice(0, 12)} into ${dir} (once; ~25 min on 2 cores)`);
  try {
    if (!existsSync(join(src, '.git'))) {
      rmSync(src, { recursive: true, force: true });
      run('git', ['clone', '--quiet', source.bundle, src], dir);
      run('git', ['checkout', '--quiet', source.commit], src);
    }
    run(
      'cmake',
      [
        '-S',
        src,
        '-B',
        join(dir, 'build'),
        '-DCMAKE_BUILD_TYPE=Release',
        '-DGGML_NATIVE=ON',
        '-DGGML_CUDA=OFF',
        '-DGGML_VULKAN=OFF',
        '-DGGML_METAL=OFF',
        '-DLLAMA_CURL=OFF',
        '-DLLAMA_BUILD_TESTS=OFF',
        '-DLLAMA_BUILD_EXAMPLES=OFF',
        '-DLLAMA_BUILD_TOOLS=ON',
        '-DLLAMA_BUILD_SERVER=ON',
      ],
      dir,
    );
    const jobs = String(Math.max(1, cpus().length));
    run(
      'cmake',
      ['--build', join(dir, 'build'), '--config', 'Release', '-j', jobs, '--target', ...TARGETS],
      dir,
    );
  } catch (error) {
    return {
      skipped: `the peer build failed: ${error.message} (see the output above; delete ${dir} to retry)`,
    };
  }
  return existsSync(binaries.server) && existsSync(binaries.batchedBench)
    ? done()
    : { skipped: `the peer build finished without ${TARGETS.join(' and ')} in ${bin}` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = ensurePeerBuild();
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.skipped ? 1 : 0;
}
