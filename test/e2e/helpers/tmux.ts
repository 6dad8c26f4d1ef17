import { execFileSync, spawnSync } from 'node:child_process';

/**
 * A detached tmux server on its own socket: a real pseudo-terminal for end-to-end tests of the TUI.
 * Always call kill() (afterAll) so no server outlives the test.
 */
export class TmuxSession {
  private readonly socket: string;
  private readonly target = 'e2e';

  constructor(name: string) {
    this.socket = `atomr-${name}-${process.pid}`;
  }

  static available(): boolean {
    return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
  }

  /**
   * The server (started by the first command) hands its own environment to every shell: keep it minimal,
   * so CI=true from the test runner never reaches the app (Ink stops drawing live frames under CI).
   */
  private readonly serverEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
  };

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env: this.serverEnv,
    });
  }

  /**
   * Starts a plain bash (no rc files) in a `columns`×`rows` terminal with `env` (and nothing else from this
   * process's environment), and sets its prompt to
   * `prompt` (bash ignores an inherited PS1).
   */
  async start(env: NodeJS.ProcessEnv, prompt: string, columns = 120, rows = 40): Promise<void> {
    const exports = Object.entries(env)
      .filter(([, value]) => value !== undefined)
      .flatMap(([name, value]) => ['-e', `${name}=${value}`]);
    this.tmux(
      'new-session',
      '-d',
      '-s',
      this.target,
      '-x',
      String(columns),
      '-y',
      String(rows),
      ...exports,
      'bash --norc --noprofile',
    );
    this.type(`PS1='${prompt}'`);
    this.keys('Enter');
    await this.waitFor(
      (screen) => screen.split('\n').some((line) => line.startsWith(prompt.trimEnd())),
      'the prompt',
    );
  }

  /** Types text literally (no key names), like a user would. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** Sends named keys: Enter, C-c, C-d… */
  keys(...names: string[]): void {
    this.tmux('send-keys', '-t', this.target, ...names);
  }

  /** The visible screen (plus `history` lines of scrollback), without colours. */
  capture(history = 0): string {
    return this.tmux('capture-pane', '-p', '-t', this.target, ...(history ? ['-S', String(-history)] : []));
  }

  /** Whether the terminal cursor is visible. */
  cursorVisible(): boolean {
    return this.tmux('display-message', '-p', '-t', this.target, '#{cursor_flag}').trim() === '1';
  }

  async waitFor(predicate: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = this.capture();
      if (predicate(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore', env: this.serverEnv });
  }
}
