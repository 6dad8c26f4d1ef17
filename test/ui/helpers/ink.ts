/** Lets Ink, React and the controller's flush timer settle. */
export const tick = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` holds (or fails the test after `timeoutMs`). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(10);
  }
}

export const KEY = {
  enter: '\r',
  ctrlC: '\x03',
  ctrlD: '\x04',
  ctrlU: '\x15',
  backspace: '\x7f',
} as const;
