// The generated-GGUF shapes the benchmarks share (test/helpers/gguf writes them with random weights):
// `small` ≈ 9 MB, `mid` ≈ 220 MB, where a token takes ~10 ms on one thread here.
export const MODEL_SHAPES = Object.freeze({
  small: Object.freeze({
    embeddingLength: 256,
    blockCount: 4,
    headCount: 4,
    headCountKv: 2,
    headDim: 64,
    feedForwardLength: 1024,
  }),
  mid: Object.freeze({
    embeddingLength: 1024,
    blockCount: 7,
    headCount: 8,
    headCountKv: 4,
    headDim: 128,
    feedForwardLength: 4096,
  }),
});
