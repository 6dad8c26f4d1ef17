import type { ModelRunner, RunnerDescription } from '../core/model-runner.js';
import { isAtomrError } from '../core/errors.js';
import type { Conversation } from '../chat/conversation.js';
import { streamTurn, TurnMeter, type TurnStats } from '../chat/stream-turn.js';
import type { Attachment } from '../chat/attachments.js';
import type { HistoryItem, HistoryItemInput } from './history.js';
import { splitSettled } from './split-answer.js';
import { runSlashCommand } from './slash-commands.js';

/** The live answer: only this (and the input/status lines) re-renders while tokens arrive. */
export interface LiveAnswer {
  prompt: string;
  text: string;
  /** The thought so far (thinking on), shown dim until the answer starts; then it folds into one line. */
  thought: string;
  tokens: number;
  ttftMs: number | undefined;
  tokensPerSecond: number | undefined;
}

export interface ChatViewState {
  history: readonly HistoryItem[];
  live: LiveAnswer | undefined;
  lastStats: TurnStats | undefined;
}

export type SubmitOutcome = 'sent' | 'command' | 'busy' | 'empty' | 'exit';

export interface ChatControllerOptions {
  /**
   * Shortest time between two frames while an answer streams (80 ms: 12.5 frames/s reads as smooth).
   * Frames are spaced further apart when rendering is slow: see RENDER_BUDGET.
   */
  flushMs?: number;
  /** Longest single line kept live before it settles (see splitSettled): the TUI passes the terminal width. */
  maxLiveChars?: () => number;
  /** Share of the main thread rendering may use while streaming (default RENDER_BUDGET). */
  renderBudget?: number;
  now?: () => number;
}

/**
 * Rendering should use at most this share of the main thread while tokens stream: node-llama-cpp hands every
 * token to JavaScript, so a frame that takes 5 ms delays the next tokens by 5 ms. The gap between frames is
 * the last frame's cost divided by this share, between the 80 ms floor and the 90 ms ceiling.
 */
export const RENDER_BUDGET = 0.02;
/**
 * The visible text advances at least this often while an answer streams — 90 ms, so a late timer still keeps it
 * under 100 ms (issue 12: with a 1 s ceiling, a 5–12 ms
 * frame spaced frames 0.25–0.6 s apart, and the answer moved in jerks). Above it the budget gives way: a frame
 * every 100 ms costs at most a few percent of the main thread, and decoding runs natively off it.
 */
export const MAX_FRAME_GAP_MS = 90;

/**
 * The dim line under an answer cut off by a full context: why it stopped, and what the next turns will do
 * (the runner drops the oldest turns to make room).
 */
export function contextFullTuiNote(contextSize: number | undefined): string {
  const size = contextSize === undefined ? 'The context' : `The ${contextSize}-token context`;
  return `${size} is full, so the answer stopped here. Next turns drop the oldest ones; /reset starts afresh, --ctx sets a larger context.`;
}

/** Writes settled answer text (whole lines, ending in a newline) to the terminal above the live frame. */
export type SettledWriter = (text: string) => void;

/**
 * The chat session behind the TUI, free of React: runs answers through the runner, batches deltas so
 * rendering never competes with decoding, hands slash commands to runSlashCommand (slash-commands.ts), and
 * publishes immutable snapshots for `useSyncExternalStore`. Ideas from gemini-cli's useGeminiStream (pending
 * item + Static history).
 *
 * Settled lines of a streaming answer go to the attached writer (Ink's `useStdout().write`: raw bytes above
 * the live frame, no layout) rather than into `<Static>`: Ink lays out every character it renders, which
 * costs more CPU than llama.cpp spends decoding a tiny model. Without a writer they become history items.
 */
export class ChatController {
  private state: ChatViewState;
  private readonly listeners = new Set<() => void>();
  private nextId = 0;
  private abortController: AbortController | undefined;
  private running: Promise<void> | undefined;
  private pending = '';
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxLiveChars: () => number;
  private readonly now: (() => number) | undefined;
  private readonly renderBudget: number;
  private writer: SettledWriter | undefined;
  /** What the last frame cost (publish → React commit → Ink write), in ms. */
  private frameCostMs = 0;
  /** Thought text not yet published, and when the thought began (for "thought for 3.2 s"). */
  private pendingThought = '';
  private thoughtStartedAt: number | undefined;
  /** When the last frame started drawing: the next one is due a frame gap after it, not after its cost. */
  private lastFrameAt = 0;
  private readonly contextSize: number | undefined;
  private readonly description: RunnerDescription;
  /** Files attached with /image and /audio, sent with the next prompt. */
  private attachments: Attachment[] = [];
  /** Settles when every /image or /audio typed so far has been read (see attachInOrder). */
  private attaching: Promise<void> = Promise.resolve();

  constructor(
    private readonly runner: ModelRunner,
    private readonly conversation: Conversation,
    description: RunnerDescription,
    options: ChatControllerOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 80;
    this.maxLiveChars = options.maxLiveChars ?? (() => 2_000);
    this.now = options.now;
    this.renderBudget = options.renderBudget ?? RENDER_BUDGET;
    this.contextSize = description.contextSize;
    this.description = description;
    const history: HistoryItem[] = [this.withId({ kind: 'header', description })];
    if (conversation.mode === 'completion') {
      history.push(
        this.withId({
          kind: 'notice',
          tone: 'warn',
          text: 'Base model: completion mode. There is no chat template; each prompt is continued as plain text.',
        }),
      );
      if (conversation.system) {
        history.push(
          this.withId({ kind: 'notice', tone: 'warn', text: '--system is ignored in completion mode.' }),
        );
      }
    }
    this.state = { history, live: undefined, lastStats: undefined };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ChatViewState => this.state;

  /** Sends settled answer lines to `writer` from now on; returns the detach function. */
  attachWriter(writer: SettledWriter): () => void {
    this.writer = writer;
    return () => {
      if (this.writer === writer) this.writer = undefined;
    };
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Handles one entered line: a slash command or a prompt. */
  submit(line: string): SubmitOutcome {
    const text = line.trim();
    if (text === '') return 'empty';
    if (text.startsWith('/')) return this.command(text);
    if (this.running) return 'busy';
    this.running = this.answer(text).finally(() => {
      this.running = undefined;
    });
    return 'sent';
  }

  /** Stops the answer being written (its partial text is kept, marked interrupted). False when idle. */
  interrupt(): boolean {
    if (!this.abortController || this.abortController.signal.aborted) return false;
    this.abortController.abort();
    return true;
  }

  /** Aborts any answer and waits until the runner has let go of it (before dispose), or `timeoutMs`. */
  async close(timeoutMs?: number): Promise<void> {
    this.interrupt();
    if (!this.running) return;
    if (timeoutMs === undefined) return this.running;
    // A runner that ignores the abort must not keep the user from leaving.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.running, timeout]).finally(() => clearTimeout(timer));
  }

  /** Resolves when the current answer (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Runs a slash command (src/ui/slash-commands.ts) against this session. */
  private command(text: string): SubmitOutcome {
    return runSlashCommand(text, {
      conversation: this.conversation,
      description: this.description,
      busy: this.busy,
      append: (item) => this.append(item),
      attachInOrder: (read) => {
        this.attaching = this.attaching
          .then(() => read)
          .then(({ attachment, notice }) => {
            if (attachment) this.attachments.push(attachment);
            this.append(notice);
          })
          .catch(() => undefined);
      },
      clearAttachments: () => {
        this.attachments = [];
      },
    });
  }

  private async answer(prompt: string): Promise<void> {
    const controller = new AbortController();
    this.abortController = controller;
    const meter = new TurnMeter(this.now);
    this.pending = '';
    // A file attached just before the prompt may still be being read: it goes with this prompt.
    await this.attaching;
    const media = this.attachments.map((attachment) => attachment.part);
    this.attachments = [];
    // Start generating first: the prompt is evaluated (natively) while React draws the prompt line.
    const turn = streamTurn(this.runner, this.conversation.batchFor(prompt, media), {
      signal: controller.signal,
      meter,
      onDelta: (delta) => {
        this.pending += delta;
        this.flushTimer ??= setTimeout(() => this.flush(meter), this.frameGapMs());
      },
      onThought: (delta) => {
        this.pendingThought += delta;
        this.thoughtStartedAt ??= this.clock();
        this.flushTimer ??= setTimeout(() => this.flush(meter), this.frameGapMs());
      },
      ...(this.now ? { now: this.now } : {}),
    });
    const started = this.clock();
    this.lastFrameAt = started;
    this.publish({
      history: [...this.state.history, this.withId({ kind: 'user', text: prompt })],
      live: { prompt, text: '', thought: '', tokens: 0, ttftMs: undefined, tokensPerSecond: undefined },
    });
    // This frame's cost spaces the first streaming frames (see frameGapMs).
    queueMicrotask(() => {
      this.frameCostMs = this.clock() - started;
    });
    let stats: TurnStats | undefined;
    let failure: string | undefined;
    try {
      const result = await turn;
      stats = result;
      // The model sees what the user saw, interrupted answers included.
      this.conversation.commit(prompt, result.text, media);
    } catch (error) {
      failure = isAtomrError(error) ? error.message : error instanceof Error ? error.message : String(error);
    } finally {
      this.abortController = undefined;
    }
    this.finish(meter, stats, failure);
  }

  /** Publishes the batched deltas: settled lines move into history, the tail stays live. */
  private flush(meter: TurnMeter): void {
    this.flushTimer = undefined;
    const live = this.state.live;
    if (!live) return;
    const thought = live.thought + this.pendingThought;
    this.pendingThought = '';
    // The answer has started: the thought folds into one dim line above it.
    const folded = thought !== '' && live.text + this.pending !== '' ? this.foldThought(thought) : undefined;
    const { settled, tail } = splitSettled(live.text + this.pending, this.maxLiveChars());
    this.pending = '';
    const written = settled.length > 0 && this.writer !== undefined;
    const started = this.clock();
    this.lastFrameAt = started;
    this.publish({
      // Without a writer, one history item per flush however many lines settled.
      history: [
        ...this.state.history,
        ...(folded ? [folded] : []),
        ...(settled.length && !written
          ? [this.withId({ kind: 'answer', text: settled.join('\n'), final: false })]
          : []),
      ],
      live: {
        ...live,
        thought: folded ? '' : thought,
        text: tail,
        tokens: meter.deltas,
        ttftMs: meter.ttftMs,
        tokensPerSecond: meter.tokensPerSecond(),
      },
    });
    // React renders in a microtask queued by publish(); this one runs after it, once the new frame is on
    // screen, so the settled lines go above the new frame and the frame's cost can be measured.
    queueMicrotask(() => {
      if (written) this.writer?.(`${settled.join('\n')}\n`);
      this.frameCostMs = this.clock() - started;
    });
  }

  /**
   * The pause before the next frame: frames start at least flushMs apart, far enough apart to keep rendering
   * within RENDER_BUDGET, and never more than MAX_FRAME_GAP_MS apart — counted from when the last frame started,
   * so its own drawing time is part of the gap.
   */
  private frameGapMs(): number {
    const gap = Math.min(MAX_FRAME_GAP_MS, Math.max(this.flushMs, this.frameCostMs / this.renderBudget));
    return Math.max(0, gap - (this.clock() - this.lastFrameAt));
  }

  private clock(): number {
    return this.now ? this.now() : performance.now();
  }

  /** The thought as one dim history line: how long the model thought, and how much. */
  private foldThought(thought: string): HistoryItem {
    const seconds = (this.clock() - (this.thoughtStartedAt ?? this.clock())) / 1000;
    this.thoughtStartedAt = undefined;
    const size = `${thought.length.toLocaleString('en-US')} characters`;
    return this.withId({
      kind: 'notice',
      tone: 'dim',
      text: `thought for ${seconds.toFixed(1)} s · ${size}`,
    });
  }

  private finish(meter: TurnMeter, stats: TurnStats | undefined, failure: string | undefined): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const thought = (this.state.live?.thought ?? '') + this.pendingThought;
    this.pendingThought = '';
    // Whole lines of the rest go to the writer too (Ink would lay out every character); the last partial
    // line becomes the final history item, which carries the interrupted mark.
    let rest = (this.state.live?.text ?? '') + this.pending;
    this.pending = '';
    const items: HistoryItem[] = [];
    if (this.writer) {
      const { settled, tail } = splitSettled(rest, this.maxLiveChars());
      if (settled.length) this.writer(`${settled.join('\n')}\n`);
      rest = tail;
    }
    const finalStats = stats ?? meter.finish('error', undefined);
    if (thought !== '') items.push(this.foldThought(thought));
    items.push(
      this.withId({
        kind: 'answer',
        text: rest,
        final: true,
        interrupted: finalStats.finishReason === 'abort',
        stats: finalStats,
      }),
    );
    if (failure !== undefined) items.push(this.withId({ kind: 'notice', tone: 'error', text: failure }));
    if (finalStats.contextFull) {
      items.push(this.withId({ kind: 'notice', tone: 'dim', text: contextFullTuiNote(this.contextSize) }));
    }
    this.publish({ history: [...this.state.history, ...items], live: undefined, lastStats: finalStats });
  }

  private append(item: HistoryItemInput): void {
    this.publish({ history: [...this.state.history, this.withId(item)] });
  }

  private withId(item: HistoryItemInput): HistoryItem {
    return { ...item, id: `h${this.nextId++}` } as HistoryItem;
  }

  private publish(patch: Partial<ChatViewState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
