import { Box, Static, useApp, useInput, useStdout, type Key } from 'ink';
import { useCallback, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ChatController } from './chat-controller.js';
import { HistoryItemView } from './components/HistoryItemView.js';
import { InputLine } from './components/InputLine.js';
import { LiveAnswer } from './components/LiveAnswer.js';
import { StatusLine } from './components/StatusLine.js';
import { COLOR_THEME, ThemeContext, type Theme } from './theme.js';

export interface ChatAppProps {
  controller: ChatController;
  theme?: Theme;
  /** Called once when the user leaves (/exit, Ctrl-D, Ctrl-C on an empty prompt), before Ink unmounts. */
  onExit?: () => void;
}

/** How long leaving waits for an interrupted answer to wind down. */
export const LEAVE_TIMEOUT_MS = 1_000;

/** Removes the last word (and the spaces after it), as Ctrl-W does in a shell. */
function deleteWord(value: string): string {
  return value.replace(/\S*\s*$/, '');
}

/** Typed or pasted text without control bytes (tabs become spaces). */
function printable(input: string): string {
  // eslint-disable-next-line no-control-regex
  return input.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
}

/**
 * The chat screen: `<Static>` history (header, turns, notices: written once), then the live answer, the input
 * line and the status line, which are all that re-render while tokens stream.
 */
export function ChatApp({ controller, theme = COLOR_THEME, onExit }: ChatAppProps) {
  const state = useSyncExternalStore(controller.subscribe, controller.getSnapshot);
  const [input, setInput] = useState('');
  const inputRef = useRef('');
  const { exit } = useApp();
  const { write } = useStdout();
  // Settled answer lines go straight to the terminal above the frame (see ChatController).
  useLayoutEffect(() => controller.attachWriter(write), [controller, write]);

  const setValue = useCallback((value: string) => {
    inputRef.current = value;
    setInput(value);
  }, []);

  const leave = useCallback(() => {
    onExit?.();
    // Let an answer being written end first, so the last frame shows it stopped rather than streaming.
    void controller.close(LEAVE_TIMEOUT_MS).then(() => exit());
  }, [controller, exit, onExit]);

  /** Sends the line; true when it was taken (the input clears), false while an answer is being written. */
  const submit = (line: string): boolean => {
    const outcome = controller.submit(line);
    if (outcome === 'exit') leave();
    const taken = outcome !== 'busy';
    if (taken) setValue('');
    return taken;
  };

  useInput((typed: string, key: Key) => {
    const value = inputRef.current;
    if (key.ctrl && typed === 'c') {
      if (controller.interrupt()) return;
      if (value !== '') setValue('');
      else leave();
      return;
    }
    if (key.ctrl && typed === 'd') {
      if (value === '') leave();
      return;
    }
    if (key.ctrl && typed === 'u') return setValue('');
    if (key.ctrl && typed === 'w') return setValue(deleteWord(value));
    if (key.return) {
      submit(value);
      return;
    }
    if (key.backspace || key.delete) return setValue(value.slice(0, -1));
    if (key.ctrl || key.meta || key.escape || key.tab) return;
    if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return;
    // Text and Enter can arrive in one chunk (fast typing, a pasted line, tmux send-keys): a line break in it
    // submits what came before, as in a shell.
    const lines = typed.split(/\r\n|\r|\n/);
    let current = value;
    lines.forEach((line, index) => {
      current += printable(line);
      if (index < lines.length - 1) current = submit(current) ? '' : current;
    });
    if (current !== value) setValue(current);
  });

  const live = state.live;
  return (
    <ThemeContext.Provider value={theme}>
      <Static items={[...state.history]}>{(item) => <HistoryItemView key={item.id} item={item} />}</Static>
      <Box flexDirection="column">
        {live ? (
          <LiveAnswer
            text={live.text}
            thought={live.thought}
            waiting={live.text === '' && live.tokens === 0}
          />
        ) : null}
        <InputLine value={input} busy={live !== undefined} />
        <StatusLine live={live} lastStats={state.lastStats} />
      </Box>
    </ThemeContext.Provider>
  );
}
