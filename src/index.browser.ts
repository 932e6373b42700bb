// Browser entry: navigator.gpu, checkpoints from URLs, ArrayBuffers or Blobs.
import { createBrowserRuntime } from './runtime/gpu.browser.ts';
import type { Scorer } from './musiq/scorer.ts';
import { openScorer } from './open-scorer.ts';
import { isDownload, sourceOf } from './checkpoint-input.ts';
import { localStorageTuneCache } from './kernels/tune.ts';
import type { CreateScorerOptions } from './index.ts';
import { MusiqError } from './common/errors.ts';

export * from './index.ts';
export { createBrowserRuntime } from './runtime/gpu.browser.ts';

export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return openScorer(options, {
    source: async (checkpoint) => {
      const source = (await sourceOf(checkpoint)) ?? (await sourceOf(new URL(String(checkpoint), globalThis.location?.href ?? undefined)));
      if (!source) throw new MusiqError(`musiq: cannot load checkpoint ${String(checkpoint)} in a browser`);
      return source;
    },
    downloads: (checkpoint) => isDownload(checkpoint, true),
    newRuntime: () => createBrowserRuntime(),
    tuneCache: localStorageTuneCache(),
  });
}
