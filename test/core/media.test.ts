import { describe, expect, it } from 'vitest';
import { MAX_AUDIO_SECONDS, inspectAudio, inspectImage } from '../../src/core/media.js';
import { TINY_JPEG, makeMp3, makePng, makeWav } from '../helpers/media.js';

/** The header checks every entry point runs before media reaches an engine (src/core/media.ts). */
describe('inspectImage', () => {
  it('reads the type and size of a PNG and a JPEG', () => {
    expect(inspectImage(makePng(5, 3), 'part')).toEqual({ mediaType: 'image/png', width: 5, height: 3 });
    expect(inspectImage(TINY_JPEG, 'part')).toEqual({ mediaType: 'image/jpeg', width: 8, height: 6 });
  });

  it('refuses what is not an image, a cut PNG, an empty part, naming the part', () => {
    const bad = [Buffer.from('hello, not an image'), makePng(5, 3).subarray(0, 40), Buffer.alloc(0)];
    for (const bytes of bad) {
      expect(() => inspectImage(bytes, 'messages[0].content[1]')).toThrow(/^messages\[0\]\.content\[1\] /);
    }
    expect(() => inspectImage(makeWav(0.1), 'x')).toThrow('x is not an image (or is cut short)');
  });
});

describe('inspectAudio', () => {
  it('reads the duration and rate of a WAV and an MP3', () => {
    expect(inspectAudio(makeWav(1.5, 22_050, 2), 'a')).toEqual({
      format: 'wav',
      seconds: 1.5,
      sampleRate: 22_050,
      channels: 2,
    });
    const mp3 = inspectAudio(makeMp3(40), 'a', 'mp3');
    expect(mp3).toMatchObject({ format: 'mp3', sampleRate: 44_100, channels: 1 });
    expect(mp3.seconds).toBeCloseTo((40 * 1152) / 44_100, 5);
  });

  it('refuses corrupt audio, a format that does not match, and clips over 30 s', () => {
    expect(() => inspectAudio(Buffer.from('RIFF....WAVEjunk'), 'a')).toThrow('a is not WAV or MP3 audio');
    expect(() => inspectAudio(makeWav(1).subarray(0, 2000), 'a')).toThrow('a is not WAV or MP3 audio');
    expect(() => inspectAudio(Buffer.alloc(5000, 7), 'a')).toThrow('a is not WAV or MP3 audio');
    expect(() => inspectAudio(makeWav(1), 'a', 'mp3')).toThrow('a is WAV audio, not mp3');
    expect(() => inspectAudio(makeWav(MAX_AUDIO_SECONDS + 1, 8000), 'a')).toThrow(
      'a is too long (31.0 s): expected WAV or MP3 audio of at most 30 s',
    );
  });
});
