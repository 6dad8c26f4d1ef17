import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import type { VllmReadyConfig } from '../../src/core/ready-config.js';
import { resolveSettings } from '../../src/core/settings.js';
import { vllmMemoryPlan } from '../../src/probe/requirements.js';
import { evaluateProbe } from '../../src/probe/verdict.js';
import { getVariant } from '../../src/core/catalog.js';
import { engineKwargs, vllmConfigFromReady } from '../../src/runners/vllm/config.js';
import { gpuFacts, input, machine, pythonFacts, settings, TOKEN, WITH_VLLM } from './fixtures.js';

/**
 * Provisioning's text-only / multimodal choice for vLLM: text-only sets limit_mm_per_prompt to 0 for every
 * modality (vLLM then skips profiling the encoders), multimodal leaves it and the VRAM check counts the encoders.
 */
const GPU_MACHINE = { gpu: gpuFacts('nvidia-smi-2gpus.csv'), python: pythonFacts(WITH_VLLM) };

describe('vLLM media choice', () => {
  it('text-only provisioning gives vLLM limit_mm_per_prompt 0 for image, audio and video', () => {
    const textOnly = evaluateProbe(
      input(machine(GPU_MACHINE), { token: TOKEN, settings: settings({}, { media: 'text-only' }) }),
    );
    expect(textOnly.runtime).toBe('vllm');
    const config = textOnly.config as VllmReadyConfig;
    expect(config.limit_mm_per_prompt).toEqual({ image: 0, audio: 0, video: 0 });
    // …which the runner passes on as the EngineArgs keyword.
    expect(engineKwargs(vllmConfigFromReady(config), config.model).limit_mm_per_prompt).toEqual({
      image: 0,
      audio: 0,
      video: 0,
    });
    const multimodal = evaluateProbe(input(machine(GPU_MACHINE), { token: TOKEN }));
    expect(multimodal.config).not.toHaveProperty('limit_mm_per_prompt');
  });

  it("multimodal counts the encoders' start-up profiling in the VRAM plan, text-only does not", () => {
    const variant = getVariant('google/gemma-4-E4B-it');
    const media = vllmMemoryPlan(variant, 14.9, 22.5, 0.9, 32_768, 'multimodal');
    const text = vllmMemoryPlan(variant, 14.9, 22.5, 0.9, 32_768, 'text-only');
    expect(media.needGiB - text.needGiB).toBeCloseTo(0.5, 5);
    // On the same GPU, the multimodal engine has to offload more weights to fit.
    const offload = (media: string) =>
      (
        evaluateProbe(
          input(machine(GPU_MACHINE), {
            token: TOKEN,
            settings: resolveSettings({ ATOMR_INFER_GEMMA_MEDIA: media }),
          }),
        ).config as VllmReadyConfig
      ).cpu_offload_gb;
    expect(offload('multimodal') - offload('text-only')).toBeCloseTo(0.5, 5);
  });

  it('an unknown choice is refused naming what is accepted', () => {
    expect(() => resolveSettings({ ATOMR_INFER_GEMMA_MEDIA: 'video' })).toThrow(ConfigError);
    expect(() => resolveSettings({ ATOMR_INFER_GEMMA_MEDIA: 'video' })).toThrow(
      'ATOMR_INFER_GEMMA_MEDIA="video" is not valid: expected one of multimodal, text-only',
    );
    expect(() => resolveSettings({}, { media: 'none' })).toThrow(UsageError);
  });
});
