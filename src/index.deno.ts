// Deno entry (export condition `deno`): Deno's own WebGPU (navigator.gpu: wgpu, not the Dawn
// addon, so no --allow-ffi), checkpoints by path through Deno's file API (--allow-read), shaders
// inlined like the browser build, tuning results in Deno's localStorage (no permission needed).
import { createBrowserRuntime } from './runtime/gpu.browser.ts';
import { denoFileSource } from './npz/source.deno.ts';
import type { Scorer } from './musiq/scorer.ts';
import { openScorer } from './open-scorer.ts';
import { isDownload, sourceOf } from './checkpoint-input.ts';
import { localStorageTuneCache } from './kernels/tune.ts';
import type { CreateScorerOptions } from './index.ts';
import type { Runtime } from './runtime/runtime.ts';

export * from './index.ts';

/** A Runtime on Deno's navigator.gpu (wgpu: Vulkan/Metal/D3D12 as the machine has). */
export function createDenoRuntime(options: { profile?: boolean; defaultLimits?: boolean } = {}): Promise<Runtime> {
  return createBrowserRuntime(options);
}

/** Like the Node entry's: `checkpoint` may be a path or file: URL (read with --allow-read), an http(s) URL (--allow-net), bytes, a Blob or a ByteSource. */
export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return openScorer(options, {
    source: async (checkpoint) =>
      (await sourceOf(checkpoint)) ?? (await denoFileSource(checkpoint instanceof URL || /^file:/i.test(String(checkpoint)) ? new URL(String(checkpoint)) : String(checkpoint))),
    downloads: (checkpoint) => isDownload(checkpoint),
    newRuntime: () => createDenoRuntime(),
    tuneCache: localStorageTuneCache(),
  });
}
