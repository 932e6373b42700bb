// Node entry: Dawn for the GPU, files by path, plus everything shared.
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from './runtime/gpu.node.ts';
import { fileSource } from './npz/source.node.ts';
import { createScorerFrom, reloadable, type Scorer } from './musiq/scorer.ts';
import { sourceOf } from './checkpoint-input.ts';
import { fileTuneCache } from './kernels/tune-cache.node.ts';
import type { CreateScorerOptions } from './index.ts';
import { lostRuntime } from './runtime/errors.ts';

export * from './index.ts';
export { createNodeRuntime } from './runtime/gpu.node.ts';
export { resolveModel, MODEL_NAMES, type ModelName } from './musiq/models.node.ts';

export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return reloadable(() => openScorer(options));
}

async function openScorer(options: CreateScorerOptions): Promise<Scorer> {
  const { checkpoint } = options;
  if (options.runtime?.lost) throw lostRuntime(options.runtime.lost);
  const source =
    (await sourceOf(checkpoint)) ??
    (await fileSource(checkpoint instanceof URL ? fileURLToPath(checkpoint) : (checkpoint as string).replace(/^file:\/\//, '')));
  const runtime = options.runtime ?? (await createNodeRuntime());
  try {
    return await createScorerFrom(runtime, source, { onProgress: options.onProgress, weights: options.weights, ownsRuntime: !options.runtime, tuneCache: fileTuneCache() });
  } catch (e) {
    if (!options.runtime) runtime.destroy();
    throw e;
  }
}
