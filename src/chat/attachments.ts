import { stat, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';
import { MAX_MEDIA_BYTES, describeMedia, inspectAudio, inspectImage, type MediaKind } from '../core/media.js';
import {
  RUNTIME_NAMES,
  unsupportedMedia,
  type ContentPart,
  type RunnerDescription,
} from '../core/model-runner.js';

/**
 * A file the user attaches to a prompt (`chat --image/--audio`, the TUI's /image and /audio): read, checked as
 * serve checks media (core/media.ts), and summed up for the history line ("cat.png · 640×480, 12.3 KB").
 */
export interface Attachment {
  kind: MediaKind;
  part: ContentPart;
  /** `image cat.png · 640×480, 12.3 KB` */
  summary: string;
}

/** Reads and checks `path`; `label` names it in errors the way the user gave it (`--image cat.png`). */
export async function readAttachment(kind: MediaKind, path: string, label: string): Promise<Attachment> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${label}: not a file`);
    if (info.size > MAX_MEDIA_BYTES) {
      throw new UsageError(
        `${label} is too large (${info.size} bytes): expected at most ${MAX_MEDIA_BYTES} bytes`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${label}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`}`,
    );
  }
  const name = basename(path);
  if (kind === 'image') {
    const info = inspectImage(bytes, label);
    return {
      kind,
      part: { type: 'image', data: bytes, mediaType: info.mediaType },
      summary: `image ${name} · ${describeMedia(info, bytes.length)}`,
    };
  }
  const info = inspectAudio(bytes, label);
  return {
    kind,
    part: { type: 'audio', data: bytes, format: info.format },
    summary: `audio ${name} · ${describeMedia(info, bytes.length)}`,
  };
}

/** Refuses an attachment the loaded runner cannot give the model, naming the runtimes that can. */
export function assertRunnerTakes(description: RunnerDescription, kind: MediaKind, label: string): void {
  const accepts = description.media ?? [];
  if (!accepts.includes(kind)) throw unsupportedMedia(label, RUNTIME_NAMES[description.runtime], accepts);
}
