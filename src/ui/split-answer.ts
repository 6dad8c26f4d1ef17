/**
 * Where a streaming answer can be cut so the settled part leaves the live region (written once, above it)
 * and only the tail re-renders. The live region must stay short however long the answer grows: Ink redraws
 * it on every frame, and clears the whole screen when it is taller than the terminal.
 */
export interface AnswerSplit {
  /** Settled rows, oldest first, each at most `maxChars` long (blank lines are empty rows). */
  settled: string[];
  /** The last, unfinished row: what stays live. */
  tail: string;
}

/** Cuts `line` into rows of at most `maxChars`, at the last space before the limit (hard when there is none). */
function wrapRows(line: string, maxChars: number, rows: string[]): string {
  let rest = line;
  while (rest.length > maxChars) {
    const space = rest.lastIndexOf(' ', maxChars);
    const cut = space > 0 ? space + 1 : maxChars;
    rows.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut);
  }
  return rest;
}

/**
 * Every finished line settles, word-wrapped into rows of at most `maxChars` (the TUI passes the terminal
 * width, so a row is exactly what the terminal shows on one line); the unfinished last line settles all but
 * its last row.
 */
export function splitSettled(text: string, maxChars: number): AnswerSplit {
  const settled: string[] = [];
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  for (const line of lines) settled.push(wrapRows(line, maxChars, settled));
  const tail = wrapRows(last, maxChars, settled);
  return { settled, tail };
}
