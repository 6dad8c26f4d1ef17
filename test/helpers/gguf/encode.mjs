// GGUF v3 encoder: turns a list of metadata entries and tensors into the bytes of a .gguf file.
// Plain JS (with encode.d.mts beside it) so the benchmarks in bench/*.mjs can use it without a build step.
//
// Layout (little-endian): "GGUF" | u32 version | u64 tensor count | u64 kv count | kv entries |
// tensor infos (name, n_dims, dims in ggml order ne0..ne3, type, offset) | zero padding to the alignment |
// tensor data, each tensor's offset aligned.
import { Buffer } from 'node:buffer';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types (gguf.h `enum gguf_type`). */
export const GgufType = Object.freeze({
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
});

/** ggml tensor types this encoder can write. */
export const GgmlType = Object.freeze({ F32: 0, F16: 1 });

const SCALAR = {
  [GgufType.UINT8]: [1, (view, off, v) => view.setUint8(off, v)],
  [GgufType.INT8]: [1, (view, off, v) => view.setInt8(off, v)],
  [GgufType.UINT16]: [2, (view, off, v) => view.setUint16(off, v, true)],
  [GgufType.INT16]: [2, (view, off, v) => view.setInt16(off, v, true)],
  [GgufType.UINT32]: [4, (view, off, v) => view.setUint32(off, v, true)],
  [GgufType.INT32]: [4, (view, off, v) => view.setInt32(off, v, true)],
  [GgufType.FLOAT32]: [4, (view, off, v) => view.setFloat32(off, v, true)],
  [GgufType.BOOL]: [1, (view, off, v) => view.setUint8(off, v ? 1 : 0)],
  [GgufType.UINT64]: [8, (view, off, v) => view.setBigUint64(off, BigInt(v), true)],
  [GgufType.INT64]: [8, (view, off, v) => view.setBigInt64(off, BigInt(v), true)],
  [GgufType.FLOAT64]: [8, (view, off, v) => view.setFloat64(off, v, true)],
};

const TYPE_NAMES = {
  u8: GgufType.UINT8,
  i8: GgufType.INT8,
  u16: GgufType.UINT16,
  i16: GgufType.INT16,
  u32: GgufType.UINT32,
  i32: GgufType.INT32,
  f32: GgufType.FLOAT32,
  bool: GgufType.BOOL,
  str: GgufType.STRING,
  u64: GgufType.UINT64,
  i64: GgufType.INT64,
  f64: GgufType.FLOAT64,
};

/** A metadata value: `kv('u32', 3)`, `kv('str', 'gemma3')`, `kvArray('str', ['a', 'b'])`. */
export function kv(type, value) {
  const code = TYPE_NAMES[type];
  if (code === undefined) throw new Error(`unknown GGUF value type ${type}`);
  return { type: code, value };
}

export function kvArray(elementType, values) {
  const code = TYPE_NAMES[elementType];
  if (code === undefined) throw new Error(`unknown GGUF array element type ${elementType}`);
  return { type: GgufType.ARRAY, elementType: code, value: values };
}

/** Grows as bytes are appended; avoids computing sizes up front. */
class ByteSink {
  constructor(initial = 1 << 16) {
    this.buffer = Buffer.alloc(initial);
    this.length = 0;
  }

  reserve(extra) {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  scalar(type, value) {
    const entry = SCALAR[type];
    if (!entry) throw new Error(`GGUF type ${type} is not a scalar`);
    const [size, write] = entry;
    this.reserve(size);
    write(new DataView(this.buffer.buffer, this.buffer.byteOffset), this.length, value);
    this.length += size;
  }

  string(text) {
    const bytes = Buffer.from(text, 'utf8');
    this.scalar(GgufType.UINT64, bytes.length);
    this.bytes(bytes);
  }

  bytes(bytes) {
    this.reserve(bytes.length);
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(this.buffer, this.length);
    this.length += bytes.byteLength;
  }

  padTo(alignment) {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buffer.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  toBuffer() {
    return this.buffer.subarray(0, this.length);
  }
}

function writeValue(sink, entry) {
  if (entry.type === GgufType.STRING) sink.string(entry.value);
  else if (entry.type === GgufType.ARRAY) {
    sink.scalar(GgufType.UINT32, entry.elementType);
    sink.scalar(GgufType.UINT64, entry.value.length);
    for (const item of entry.value) {
      if (entry.elementType === GgufType.STRING) sink.string(item);
      else sink.scalar(entry.elementType, item);
    }
  } else sink.scalar(entry.type, entry.value);
}

/** Bytes per element of a tensor type. */
export function ggmlTypeSize(type) {
  if (type === GgmlType.F32) return 4;
  if (type === GgmlType.F16) return 2;
  throw new Error(`unsupported ggml type ${type}`);
}

/** IEEE 754 binary16 from a JS number (round to nearest even; enough for random weights). */
export function toHalf(value) {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa = (mantissa | 0x800000) >> (1 - exponent);
    return sign | ((mantissa + 0x1000) >> 13);
  }
  const half = sign | (exponent << 10) | (mantissa >> 13);
  return mantissa & 0x1000 ? half + 1 : half;
}

function tensorBytes(tensor) {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== count) {
    throw new Error(`tensor ${tensor.name}: ${tensor.data.length} values for dims ${tensor.dims.join('x')}`);
  }
  if (tensor.type === GgmlType.F32) {
    const out = new Float32Array(tensor.data);
    return new Uint8Array(out.buffer);
  }
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = toHalf(tensor.data[i]);
  return new Uint8Array(out.buffer);
}

/**
 * Encodes a GGUF file.
 * @param {{ metadata: Array<[string, {type:number, value:unknown, elementType?:number}]>,
 *           tensors: Array<{ name: string, dims: number[], type: number, data: ArrayLike<number>,
 *                            offset?: number }> }} model  `offset` overrides the computed one (malformed files)
 * @returns {Buffer}
 */
export function encodeGguf({ metadata, tensors }) {
  const sink = new ByteSink();
  sink.bytes(Buffer.from(GGUF_MAGIC, 'latin1'));
  sink.scalar(GgufType.UINT32, GGUF_VERSION);
  sink.scalar(GgufType.UINT64, tensors.length);
  sink.scalar(GgufType.UINT64, metadata.length);
  for (const [key, entry] of metadata) {
    sink.string(key);
    sink.scalar(GgufType.UINT32, entry.type);
    writeValue(sink, entry);
  }
  const blobs = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((tensor, i) => {
    sink.string(tensor.name);
    sink.scalar(GgufType.UINT32, tensor.dims.length);
    for (const dim of tensor.dims) sink.scalar(GgufType.UINT64, dim);
    sink.scalar(GgufType.UINT32, tensor.type);
    sink.scalar(GgufType.UINT64, tensor.offset ?? offset);
    offset += blobs[i].byteLength;
    offset += (GGUF_ALIGNMENT - (offset % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
  });
  sink.padTo(GGUF_ALIGNMENT);
  for (const blob of blobs) {
    sink.bytes(blob);
    sink.padTo(GGUF_ALIGNMENT);
  }
  return Buffer.from(sink.toBuffer());
}
