import { describe, expect, it } from 'vitest';
import { splitSettled } from '../../src/ui/split-answer.js';

describe('splitSettled', () => {
  it('keeps a short unfinished line live', () => {
    expect(splitSettled('Hello there', 100)).toEqual({ settled: [], tail: 'Hello there' });
  });

  it('settles every finished line, blank lines included', () => {
    expect(splitSettled('one\n\ntwo\nthr', 100)).toEqual({ settled: ['one', '', 'two'], tail: 'thr' });
    expect(splitSettled('done\n', 100)).toEqual({ settled: ['done'], tail: '' });
  });

  it('word-wraps long lines into rows no longer than the limit, losing no words', () => {
    const words = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    for (const text of [words, `${words}\n`]) {
      const { settled, tail } = splitSettled(text, 40);
      expect(tail.length).toBeLessThanOrEqual(40);
      expect(settled.length).toBeGreaterThan(5);
      expect(settled.every((row) => row.length <= 40 && !row.endsWith(' '))).toBe(true);
      expect([...settled, tail].join(' ').trim()).toBe(words);
    }
  });

  it('cuts hard at the limit when a line has no spaces', () => {
    const { settled, tail } = splitSettled('x'.repeat(95), 40);
    expect(settled).toEqual(['x'.repeat(40), 'x'.repeat(40)]);
    expect(tail).toBe('x'.repeat(15));
  });
});
