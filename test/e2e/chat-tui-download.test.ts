import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../fakes/hub/fake-hub.js';
import { buildTinyGguf } from '../helpers/gguf/index.mjs';
import { GGUF_FILE, GGUF_REPO } from '../hub/helpers.js';
import { BIN } from './helpers/cli.js';
import { TmuxSession } from './helpers/tmux.js';

/**
 * The mission's headline command as the only command typed on a fresh machine, in a real terminal:
 * `atomr-infer chat --model google/gemma-4-E2B-it` downloads the model (progress on the terminal) from a
 * loopback fake Hub, then the TUI starts on it.
 */
const PROMPT = 'E2E$ ';
const tmux = new TmuxSession('chat-tui-download');
let hub: FakeHub;
let home: string;

describe.skipIf(!TmuxSession.available())(
  'atomr-infer chat --model <id> in a terminal, nothing cached',
  () => {
    beforeAll(async () => {
      hub = await startFakeHub({
        repos: [
          {
            id: GGUF_REPO,
            files: [{ path: GGUF_FILE, content: buildTinyGguf({ arch: 'gemma4', seed: 5 }) }],
          },
        ],
      });
      home = await mkdtemp(join(tmpdir(), 'atomr-tui-download-'));
      await tmux.start(
        {
          PATH: process.env.PATH,
          HOME: home,
          HF_HOME: join(home, 'hf-home'),
          HF_ENDPOINT: hub.url,
          ATOMR_INFER_HOME: join(home, 'state'),
          TERM: 'xterm-256color',
          ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
        },
        PROMPT,
      );
    });

    afterAll(async () => {
      tmux.kill();
      await hub.close();
      // kill-server hangs up on the shell and the CLI in it, which may still be writing under home for a few
      // milliseconds (seen in CI as ENOTEMPTY): retry, as rm does for exactly that error.
      await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    });

    it('downloads the model with progress, then the chat UI starts and answers', async () => {
      tmux.type(
        `${process.execPath} ${BIN} chat --model google/gemma-4-E2B-it --threads 1 --max-tokens 8; echo "EXIT_CODE=$?"`,
      );
      tmux.keys('Enter');
      await tmux.waitFor(
        (screen) => screen.includes('ready · /help'),
        'the chat UI after the download',
        60_000,
      );
      const snapshot = join(
        home,
        'hf-home',
        'hub',
        'models--ggml-org--gemma-4-E2B-it-GGUF',
        'snapshots',
        hub.commitOf(GGUF_REPO),
        GGUF_FILE,
      );
      expect(existsSync(snapshot)).toBe(true);
      expect(tmux.capture(200)).toContain(`chat: downloading ${GGUF_FILE}`);

      tmux.type('hi');
      tmux.keys('Enter');
      await tmux.waitFor((screen) => screen.includes('8 tokens · max tokens reached'), 'an answer');

      tmux.type('/exit');
      tmux.keys('Enter');
      await tmux.waitFor((screen) => screen.includes('EXIT_CODE=0'), 'the shell after /exit');
    });
  },
);
