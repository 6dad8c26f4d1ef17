import { testVenv } from './python-venv.js';

/** A venv with what the vLLM driver decodes media with: Pillow and numpy (vLLM's own dependencies), soundfile
 * (vllm[audio]). See testVenv. */
export function mediaPythonInterpreter(): Promise<{ python?: string; reason?: string }> {
  return testVenv({
    name: 'atomr-infer-test-media-venv',
    packages: ['pillow', 'numpy', 'soundfile'],
    check: 'import PIL, numpy, soundfile',
  });
}
