import { UsageError } from './errors.js';

/**
 * Image and audio as the seam carries them (bytes + media type, bytes + format), and the checks every entry point
 * (serve, chat) runs before anything reaches an engine: the bytes must be the kind of file they claim to be, whole
 * enough to read their dimensions or duration, and within the limits Gemma 4 takes. Only headers are read here;
 * decoding (and resizing, resampling) happens in the engine's Python, with the libraries vLLM already uses.
 */

export type MediaKind = 'image' | 'audio';

export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export const AUDIO_FORMATS = ['wav', 'mp3'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** One attachment's bytes; 20 MiB, as OpenAI's image limit. */
export const MAX_MEDIA_BYTES = 20 * 1024 * 1024;
/** Gemma 4's audio encoder takes speech up to 30 s (its audio_seq_length); longer clips are cut by the processor. */
export const MAX_AUDIO_SECONDS = 30;
/** Pillow refuses images beyond ~179 M pixels as decompression bombs; far below that is plenty for 280 tokens. */
export const MAX_IMAGE_PIXELS = 50_000_000;

export interface ImageInfo {
  mediaType: ImageMediaType;
  width: number;
  height: number;
}

export interface AudioInfo {
  format: AudioFormat;
  seconds: number;
  sampleRate: number;
  channels: number;
}

function invalid(where: string, problem: string, accepted: string): UsageError {
  return new UsageError(`${where} ${problem}: expected ${accepted}`, { code: 'invalid_media' });
}

const IMAGE_ACCEPTED = 'a PNG, JPEG, WebP or GIF image';
const AUDIO_ACCEPTED = `WAV or MP3 audio of at most ${MAX_AUDIO_SECONDS} s`;

/** The image's type and size from its header; a UsageError naming `where` when it is not a whole, sane image. */
export function inspectImage(bytes: Uint8Array, where: string): ImageInfo {
  checkSize(bytes, where, IMAGE_ACCEPTED);
  const info = pngInfo(bytes) ?? jpegInfo(bytes) ?? gifInfo(bytes) ?? webpInfo(bytes);
  if (!info) throw invalid(where, 'is not an image (or is cut short)', IMAGE_ACCEPTED);
  if (info.width < 1 || info.height < 1) throw invalid(where, 'has no pixels', IMAGE_ACCEPTED);
  if (info.width * info.height > MAX_IMAGE_PIXELS) {
    throw invalid(
      where,
      `is too large (${info.width}×${info.height} pixels)`,
      `at most ${MAX_IMAGE_PIXELS / 1_000_000} million pixels`,
    );
  }
  return info;
}

/**
 * The audio's format and duration from its headers (WAV: the fmt and data chunks; MP3: a walk over the frame
 * headers). `declared` is the format the caller named, which must match the bytes.
 */
export function inspectAudio(bytes: Uint8Array, where: string, declared?: AudioFormat): AudioInfo {
  checkSize(bytes, where, AUDIO_ACCEPTED);
  const info = wavInfo(bytes) ?? mp3Info(bytes);
  if (!info) throw invalid(where, 'is not WAV or MP3 audio (or is corrupt)', AUDIO_ACCEPTED);
  if (declared && declared !== info.format) {
    throw invalid(where, `is ${info.format.toUpperCase()} audio, not ${declared}`, `format "${info.format}"`);
  }
  if (info.seconds <= 0) throw invalid(where, 'has no samples', AUDIO_ACCEPTED);
  if (info.seconds > MAX_AUDIO_SECONDS) {
    throw invalid(where, `is too long (${info.seconds.toFixed(1)} s)`, AUDIO_ACCEPTED);
  }
  return info;
}

function checkSize(bytes: Uint8Array, where: string, accepted: string): void {
  if (bytes.length === 0) throw invalid(where, 'is empty', accepted);
  if (bytes.length > MAX_MEDIA_BYTES) {
    throw invalid(where, `is too large (${bytes.length} bytes)`, `at most ${MAX_MEDIA_BYTES} bytes`);
  }
}

/** "image 640×480, 12.3 KB" / "audio 2.5 s, 16000 Hz, 40.1 KB": how an attachment reads in a history line. */
export function describeMedia(info: ImageInfo | AudioInfo, bytes: number): string {
  const size = bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
  if ('width' in info) return `${info.width}×${info.height}, ${size}`;
  return `${info.seconds.toFixed(1)} s, ${info.sampleRate} Hz, ${size}`;
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

/** PNG: signature, IHDR first, and a chunk walk that must reach IEND inside the bytes (a cut file fails). */
function pngInfo(bytes: Uint8Array): ImageInfo | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  const data = view(bytes);
  if (ascii(bytes, 12, 4) !== 'IHDR') return undefined;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = data.getUint32(at);
    if (ascii(bytes, at + 4, 4) === 'IEND') {
      return { mediaType: 'image/png', width: data.getUint32(16), height: data.getUint32(20) };
    }
    at += 12 + length;
  }
  return undefined;
}

/** JPEG: SOI, then marker segments up to the first start-of-frame, which holds the dimensions. */
function jpegInfo(bytes: Uint8Array): ImageInfo | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const data = view(bytes);
  for (let at = 2; at + 9 <= bytes.length;) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = data.getUint16(at + 2);
    const startOfFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (startOfFrame) {
      // A frame header with no scan after it is a cut file.
      if (at + 2 + length >= bytes.length) return undefined;
      return { mediaType: 'image/jpeg', height: data.getUint16(at + 5), width: data.getUint16(at + 7) };
    }
    at += 2 + length;
  }
  return undefined;
}

function gifInfo(bytes: Uint8Array): ImageInfo | undefined {
  if (bytes.length < 14 || !/^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return undefined;
  const data = view(bytes);
  return { mediaType: 'image/gif', width: data.getUint16(6, true), height: data.getUint16(8, true) };
}

function webpInfo(bytes: Uint8Array): ImageInfo | undefined {
  if (bytes.length < 30 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') return undefined;
  const data = view(bytes);
  const chunk = ascii(bytes, 12, 4);
  const mediaType = 'image/webp' as const;
  if (chunk === 'VP8 ') {
    return { mediaType, width: data.getUint16(26, true) & 0x3fff, height: data.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    const bits = data.getUint32(21, true);
    return { mediaType, width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const read24 = (at: number) =>
      (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
    return { mediaType, width: read24(24) + 1, height: read24(27) + 1 };
  }
  return undefined;
}

/** WAV: RIFF/WAVE with a PCM or float fmt chunk and a data chunk; the duration is the data size over the byte rate. */
function wavInfo(bytes: Uint8Array): AudioInfo | undefined {
  if (bytes.length < 12 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') return undefined;
  const data = view(bytes);
  let format: { channels: number; sampleRate: number; byteRate: number } | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = ascii(bytes, at, 4);
    const size = data.getUint32(at + 4, true);
    if (id === 'fmt ' && at + 24 <= bytes.length) {
      const tag = data.getUint16(at + 8, true);
      // 1 PCM, 3 IEEE float, 0xFFFE extensible: what soundfile (libsndfile) reads.
      if (![1, 3, 0xfffe].includes(tag)) return undefined;
      format = {
        channels: data.getUint16(at + 10, true),
        sampleRate: data.getUint32(at + 12, true),
        byteRate: data.getUint32(at + 16, true),
      };
    } else if (id === 'data') {
      if (!format || format.byteRate === 0 || format.channels === 0) return undefined;
      if (format.sampleRate < 1000 || format.sampleRate > 384_000) return undefined;
      // Streamed WAVs leave the size at 0xFFFFFFFF; a size beyond the bytes is a cut file.
      const available = bytes.length - (at + 8);
      const length = size === 0xffffffff ? available : size;
      if (length > available) return undefined;
      return {
        format: 'wav',
        seconds: length / format.byteRate,
        sampleRate: format.sampleRate,
        channels: format.channels,
      };
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}

const MP3_BITRATES = {
  v1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES = [44_100, 48_000, 32_000];

/**
 * MP3 (MPEG audio layer III): skip an ID3v2 tag, then walk frame headers to the end. At least two frames in a row
 * must parse, and the walk must cover most of the file, so that random bytes with a chance sync word are refused.
 */
function mp3Info(bytes: Uint8Array): AudioInfo | undefined {
  let at = 0;
  if (ascii(bytes, 0, 3) === 'ID3' && bytes.length >= 10) {
    const size = ((bytes[6] ?? 0) << 21) | ((bytes[7] ?? 0) << 14) | ((bytes[8] ?? 0) << 7) | (bytes[9] ?? 0);
    at = 10 + size + ((bytes[5] ?? 0) & 0x10 ? 10 : 0);
  }
  const start = at;
  let frames = 0;
  let samples = 0;
  let sampleRate = 0;
  let channels = 0;
  while (at + 4 <= bytes.length) {
    const b1 = bytes[at + 1] ?? 0;
    const b2 = bytes[at + 2] ?? 0;
    if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) break;
    const version = (b1 >> 3) & 3; // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    const layer = (b1 >> 1) & 3; // 1 = layer III
    const bitrateIndex = b2 >> 4;
    const rateIndex = (b2 >> 2) & 3;
    if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) break;
    const mpeg1 = version === 3;
    const bitrate = (mpeg1 ? MP3_BITRATES.v1 : MP3_BITRATES.v2)[bitrateIndex] ?? 0;
    const rate = (MP3_RATES[rateIndex] ?? 0) / (mpeg1 ? 1 : version === 2 ? 2 : 4);
    const frameLength = Math.floor(((mpeg1 ? 144 : 72) * bitrate * 1000) / rate) + ((b2 >> 1) & 1);
    if (at + frameLength > bytes.length) break;
    frames += 1;
    samples += mpeg1 ? 1152 : 576;
    sampleRate = rate;
    channels = (bytes[at + 3] ?? 0) >> 6 === 3 ? 1 : 2;
    at += frameLength;
  }
  const rest = bytes.length - at;
  const tail = rest === 128 && ascii(bytes, at, 3) === 'TAG'; // ID3v1
  if (frames < 2 || (rest > 0 && !tail && (at - start) / (bytes.length - start) < 0.9)) return undefined;
  return { format: 'mp3', seconds: samples / sampleRate, sampleRate, channels };
}
