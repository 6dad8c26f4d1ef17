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
  media: 'ATOMR_INFER_GEMMA_MEDIA',
} as const;

/** Variables read outside the settings resolver, listed in `--help` beside the ones above. */
export const OTHER_ENV = {
  home: 'ATOMR_INFER_HOME',
  serveApiKey: 'ATOMR_INFER_API_KEY',
  remoteApiKey: 'ATOMR_INFER_REMOTE_API_KEY',
  /** Seconds the remote runner waits for response headers (a deployment's timeouts.connectMs wins). */
  remoteTimeout: 'ATOMR_INFER_REMOTE_TIMEOUT',
  /** Seconds of silence the remote runner accepts in a response body (a deployment's timeouts.idleMs wins). */
  remoteIdleTimeout: 'ATOMR_INFER_REMOTE_IDLE_TIMEOUT',
} as const;
