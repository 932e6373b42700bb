// Browser entry: navigator.gpu, checkpoints from URLs, ArrayBuffers or Blobs.
import { createBrowserRuntime } from './runtime/gpu.browser.ts';
import { createScorerFrom, reloadable, type Scorer } from './musiq/scorer.ts';
import { sourceOf } from './checkpoint-input.ts';
import { localStorageTuneCache } from './kernels/tune.ts';
import type { CreateScorerOptions } from './index.ts';
import { MusiqError } from './common/errors.ts';
import { lostRuntime } from './runtime/errors.ts';

export * from './index.ts';
export { createBrowserRuntime } from './runtime/gpu.browser.ts';

export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return reloadable(() => openScorer(options));
}

async function openScorer(options: CreateScorerOptions): Promise<Scorer> {
  const { checkpoint } = options;
  if (options.runtime?.lost) throw lostRuntime(options.runtime.lost);
  const source =
    (await sourceOf(checkpoint)) ?? (await sourceOf(new URL(String(checkpoint), globalThis.location?.href ?? undefined)));
  if (!source) throw new MusiqError(`musiq: cannot load checkpoint ${String(checkpoint)} in a browser`);
  const runtime = options.runtime ?? (await createBrowserRuntime());
  try {
    return await createScorerFrom(runtime, source, { onProgress: options.onProgress, weights: options.weights, ownsRuntime: !options.runtime, tuneCache: localStorageTuneCache() });
  } catch (e) {
    if (!options.runtime) runtime.destroy();
    throw e;
  }
}
