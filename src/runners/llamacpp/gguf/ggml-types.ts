/**
 * ggml tensor types as stored in GGUF files: [name, elements per block, bytes per block], from ggml.h's
 * `enum ggml_type` and the block structs in ggml-common.h of the llama.cpp that node-llama-cpp 3.22 ships.
 * Removed types (4, 5, 31–33, 36–38) are absent on purpose: llama.cpp rejects them too.
 */
const GGML_TYPES: Record<number, readonly [string, number, number]> = {
  0: ['F32', 1, 4],
  1: ['F16', 1, 2],
  2: ['Q4_0', 32, 18],
  3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34],
  9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84],
  11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210],
  15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS', 256, 66],
  17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98],
  19: ['IQ1_S', 256, 50],
  20: ['IQ4_NL', 32, 18],
  21: ['IQ3_S', 256, 110],
  22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1],
  25: ['I16', 1, 2],
  26: ['I32', 1, 4],
  27: ['I64', 1, 8],
  28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56],
  30: ['BF16', 1, 2],
  34: ['TQ1_0', 256, 54],
  35: ['TQ2_0', 256, 66],
  39: ['MXFP4', 32, 17],
  40: ['NVFP4', 64, 36],
  41: ['Q1_0', 128, 18],
  42: ['Q2_0', 64, 18],
};

export function ggmlTypeName(type: number): string | undefined {
  return GGML_TYPES[type]?.[0];
}

/**
 * Bytes a tensor of `dims` (ggml order, dims[0] innermost) takes, or undefined when dims[0] is not a whole
 * number of blocks or the size is beyond any file (a corrupt header).
 */
export function tensorByteSize(type: number, dims: readonly number[]): number | undefined {
  const entry = GGML_TYPES[type];
  if (!entry) return undefined;
  const [, blockElements, blockBytes] = entry;
  const [inner = 1, ...outer] = dims;
  if (inner % blockElements !== 0) return undefined;
  let size = (inner / blockElements) * blockBytes;
  for (const dim of outer) {
    size *= dim;
    if (!Number.isSafeInteger(size)) return undefined;
  }
  return size;
}
