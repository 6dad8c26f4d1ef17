import { closeSync, fstatSync, openSync } from 'node:fs';
import { ByteReader, GgufFormatError } from './byte-reader.js';
import { ggmlTypeName, tensorByteSize } from './ggml-types.js';

/** GGUF metadata value type codes (gguf.h). */
const T = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

const SCALAR_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};
const INTEGER_TYPES = new Set<number>([
  T.UINT8,
  T.INT8,
  T.UINT16,
  T.INT16,
  T.UINT32,
  T.INT32,
  T.UINT64,
  T.INT64,
]);

/** Arrays up to this many elements keep their values; longer ones keep only their length (scores, merges…). */
const KEPT_ARRAY_LENGTH = 4096;
/** String arrays whose values are always kept, whatever their length. */
const ALWAYS_KEPT = new Set(['tokenizer.ggml.tokens']);

export type GgufScalar = number | boolean | string;

export type GgufMetadataValue =
  | { kind: 'scalar'; type: number; value: GgufScalar }
  | { kind: 'array'; elementType: number; length: number; values?: GgufScalar[] };

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  typeName: string;
  /** Relative to the start of the data section. */
  offset: number;
  byteSize: number;
}

export interface GgufHeader {
  version: number;
  fileSize: number;
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
}

export const GGUF_MAGIC = 'GGUF';
/** Smallest possible encoded metadata entry (empty key, type, one byte value) and tensor info (empty name, 1 dim). */
const MIN_KV_BYTES = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;
const MAX_DIMS = 4;
const MAX_ARRAY_NESTING = 2;

/** Why a file is not GGUF at all, in words (for the error message). */
export function describeNonGguf(start: Buffer): string {
  if (start.length === 0) return 'is empty (0 bytes)';
  const text = start.toString('utf8');
  if (text.startsWith('version https://git-lfs')) return 'is a Git LFS pointer file, not the model weights';
  if (/^\s*</.test(text)) return 'is an HTML/XML page (a failed download?), not a GGUF model';
  if (
    start.subarray(0, 4).toString('latin1') === 'GGML' ||
    start.subarray(0, 4).toString('latin1') === 'ggjt'
  ) {
    return 'is an old GGML-format model; llama.cpp needs GGUF';
  }
  const printable = [...start.subarray(0, 64)].filter(
    (b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127),
  );
  if (printable.length >= Math.min(start.length, 64) * 0.95) {
    const preview = text.slice(0, 40).replace(/\s+/g, ' ').trim();
    return `is a text file ("${preview}${text.length > 40 ? '…' : ''}"), not a GGUF model`;
  }
  const magic = [...start.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `does not start with the GGUF magic (found bytes ${magic})`;
}

function readScalar(reader: ByteReader, type: number, what: string): GgufScalar {
  switch (type) {
    case T.UINT8:
      return reader.u8(what);
    case T.INT8:
      return reader.i8(what);
    case T.UINT16:
      return reader.u16(what);
    case T.INT16:
      return reader.i16(what);
    case T.UINT32:
      return reader.u32(what);
    case T.INT32:
      return reader.i32(what);
    case T.FLOAT32:
      return reader.f32(what);
    case T.BOOL:
      return reader.u8(what) !== 0;
    case T.STRING:
      return reader.string(what);
    case T.UINT64:
      return reader.u64(what);
    case T.INT64:
      return reader.i64(what);
    case T.FLOAT64:
      return reader.f64(what);
    default:
      throw new GgufFormatError(`${what} has unknown value type ${type}`);
  }
}

function readArray(reader: ByteReader, key: string, depth: number): GgufMetadataValue {
  const what = `metadata "${key}"`;
  const elementType = reader.u32(`${what} element type`);
  const length = reader.u64(`${what} length`);
  if (elementType === T.ARRAY) {
    if (depth >= MAX_ARRAY_NESTING) throw new GgufFormatError(`${what} nests arrays too deeply`);
    // Each nested array needs at least its 12-byte header.
    reader.require(length * 12, `${what} (${length} nested arrays)`);
    for (let i = 0; i < length; i++) readArray(reader, key, depth + 1);
    return { kind: 'array', elementType, length };
  }
  if (elementType === T.STRING) {
    reader.require(length * 8, `${what} (${length} strings)`);
    const keep = ALWAYS_KEPT.has(key) || length <= KEPT_ARRAY_LENGTH;
    const values: string[] = [];
    const element = `${what} element`;
    for (let i = 0; i < length; i++) {
      if (keep) values.push(reader.string(element));
      else reader.skipString(element);
    }
    return keep ? { kind: 'array', elementType, length, values } : { kind: 'array', elementType, length };
  }
  const size = SCALAR_SIZE[elementType];
  if (size === undefined) throw new GgufFormatError(`${what} has unknown element type ${elementType}`);
  reader.require(length * size, `${what} (${length} values)`);
  if (length > KEPT_ARRAY_LENGTH) {
    reader.skip(length * size, what);
    return { kind: 'array', elementType, length };
  }
  const values: GgufScalar[] = [];
  const element = `${what} element`;
  for (let i = 0; i < length; i++) values.push(readScalar(reader, elementType, element));
  return { kind: 'array', elementType, length, values };
}

function readTensorInfo(reader: ByteReader, index: number): Omit<GgufTensorInfo, 'byteSize'> {
  const name = reader.string(`tensor #${index} name`);
  const what = `tensor "${name}"`;
  const nDims = reader.u32(`${what} dimension count`);
  if (nDims < 1 || nDims > MAX_DIMS)
    throw new GgufFormatError(`${what} has ${nDims} dimensions (1–4 allowed)`);
  const dims: number[] = [];
  for (let d = 0; d < nDims; d++) dims.push(reader.u64(`${what} dimension ${d}`));
  const type = reader.u32(`${what} type`);
  if (ggmlTypeName(type) === undefined) throw new GgufFormatError(`${what} has unknown tensor type ${type}`);
  const offset = reader.u64(`${what} data offset`);
  return { name, dims, type, typeName: ggmlTypeName(type) ?? String(type), offset };
}

/** Reads and bounds-checks the whole header of a GGUF file (never the tensor data). */
export function readGgufHeader(path: string): GgufHeader {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const reader = new ByteReader(fd, fileSize);
    const start = reader.peekStart(64);
    if (fileSize < 4 || start.subarray(0, 4).toString('latin1') !== GGUF_MAGIC) {
      throw new GgufFormatError(describeNonGguf(start));
    }
    reader.skip(4, 'magic');
    const version = reader.u32('GGUF version');
    if (version !== 2 && version !== 3) {
      throw new GgufFormatError(`has GGUF version ${version}; llama.cpp reads versions 2 and 3`);
    }
    const tensorCount = reader.u64('tensor count');
    const kvCount = reader.u64('metadata count');
    if (tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > reader.remaining) {
      throw new GgufFormatError(
        `claims ${tensorCount} tensors and ${kvCount} metadata entries, more than a ${fileSize}-byte file can hold`,
      );
    }
    const metadata = new Map<string, GgufMetadataValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = reader.string(`metadata key #${i}`);
      if (metadata.has(key)) throw new GgufFormatError(`has the metadata key "${key}" twice`);
      const type = reader.u32(`metadata "${key}" type`);
      metadata.set(
        key,
        type === T.ARRAY
          ? readArray(reader, key, 0)
          : { kind: 'scalar', type, value: readScalar(reader, type, `metadata "${key}"`) },
      );
    }
    const alignmentEntry = metadata.get('general.alignment');
    const alignment = alignmentEntry?.kind === 'scalar' ? Number(alignmentEntry.value) : 32;
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      throw new GgufFormatError(
        `has general.alignment ${String(alignmentEntry?.kind === 'scalar' ? alignmentEntry.value : '?')}, not a power of two`,
      );
    }
    const infos: Omit<GgufTensorInfo, 'byteSize'>[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const info = readTensorInfo(reader, i);
      if (names.has(info.name)) throw new GgufFormatError(`has the tensor "${info.name}" twice`);
      names.add(info.name);
      infos.push(info);
    }
    const dataOffset = Math.ceil(reader.position / alignment) * alignment;
    const tensors = infos.map((info) => {
      const byteSize = tensorByteSize(info.type, info.dims);
      if (byteSize === undefined) {
        throw new GgufFormatError(
          `tensor "${info.name}" has a shape (${info.dims.join('×')}) its ${info.typeName} type cannot hold`,
        );
      }
      if (info.offset % alignment !== 0) {
        throw new GgufFormatError(
          `tensor "${info.name}" data offset ${info.offset} is not ${alignment}-byte aligned`,
        );
      }
      const end = dataOffset + info.offset + byteSize;
      if (end > fileSize) {
        throw new GgufFormatError(
          `tensor "${info.name}" data ends at byte ${end}, past the end of the ${fileSize}-byte file (truncated or corrupt download)`,
        );
      }
      return { ...info, byteSize };
    });
    return { version, fileSize, metadata, tensors, alignment, dataOffset };
  } finally {
    closeSync(fd);
  }
}

/** A scalar metadata value, or undefined when absent or an array. */
export function metadataScalar(header: GgufHeader, key: string): GgufScalar | undefined {
  const entry = header.metadata.get(key);
  return entry?.kind === 'scalar' ? entry.value : undefined;
}

export function metadataString(header: GgufHeader, key: string): string | undefined {
  const value = metadataScalar(header, key);
  return typeof value === 'string' ? value : undefined;
}

export function isIntegerType(type: number): boolean {
  return INTEGER_TYPES.has(type);
}

export const GGUF_VALUE_TYPES = T;
