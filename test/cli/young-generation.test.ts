import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../helpers/built-cli.js';
import { ROOT } from '../e2e/helpers/cli.js';

/**
 * The CLI keeps V8's nursery at 8 MiB per semi-space (src/cli/young-generation.ts): on a fast model a bigger one
 * costs decode speed. Each case runs a fresh Node process that keeps a share of what it allocates alive, which is
 * what makes V8 grow the nursery (as loading the CLI and a model does), then reports the nursery's size.
 */
const MODULE = pathToFileURL(join(ROOT, 'dist', 'cli', 'young-generation.js')).href;
const MIB = 1024 * 1024;

async function nurseryAfterAllocating(cap: boolean): Promise<number> {
  const script = `
    import v8 from 'node:v8';
    import { capYoungGeneration } from ${JSON.stringify(MODULE)};
    if (${cap}) capYoungGeneration();
    const kept = [];
    // In slices with event-loop turns between them, as the CLI loads (files, the model): the cap is checked
    // after collections, from a GC observer, which runs between turns.
    for (let slice = 0; slice < 60; slice++) {
      for (let i = 0; i < 5e4; i++) {
        const item = { i, pair: [i, i + 1], text: 'x' + i };
        if (i % 4 === 0) kept.push(item);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(newSpace.space_size, kept.length);
  `;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script]);
  return Number(result.stdout.split(' ')[0]);
}

beforeAll(() => requireBuiltCli());

describe('the young generation cap', () => {
  it('without it V8 grows the nursery past 8 MiB per semi-space (so the next case can fail)', async () => {
    expect(await nurseryAfterAllocating(false)).toBeGreaterThan(16 * MIB);
  });

  it('with it the nursery stops at 8 MiB per semi-space (16 MiB for both)', async () => {
    expect(await nurseryAfterAllocating(true)).toBeLessThanOrEqual(16 * MIB);
  });
});
