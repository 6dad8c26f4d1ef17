/**
 * Environment variable names, in one zod-free module so `--help` can list them without loading validators.
 */
export const ENV = {
  auto: 'ATOMR_INFER_GEMMA_AUTO',
  model: 'ATOMR_INFER_GEMMA_MODEL',
  deployment: 'ATOMR_INFER_GEMMA_DEPLOYMENT',
  gpuMemoryUtilization: 'ATOMR_INFER_GEMMA_GPU_UTIL',
  maxModelLen: 'ATOMR_INFER_GEMMA_MAX_LEN',
  runtime: 'ATOMR_INFER_GEMMA_RUNTIME',
  cpuOffloadGb: 'ATOMR_INFER_GEMMA_CPU_OFFLOAD_GB',
  python: 'ATOMR_INFER_PYTHON',
  ggufOverride: 'ATOMR_INFER_GEMMA_GGUF',
} as const;
