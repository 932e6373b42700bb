// Node entry: Dawn for the GPU, files by path, plus everything shared.
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from './runtime/gpu.node.ts';
import { fileSource } from './npz/source.node.ts';
import type { Scorer } from './musiq/scorer.ts';
import { openScorer } from './open-scorer.ts';
import { isDownload, sourceOf } from './checkpoint-input.ts';
import { fileTuneCache } from './kernels/tune-cache.node.ts';
import type { CreateScorerOptions } from './index.ts';

export * from './index.ts';
export { createNodeRuntime } from './runtime/gpu.node.ts';
export { resolveModel, MODEL_NAMES, type ModelName } from './musiq/models.node.ts';

export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return openScorer(options, {
    source: async (checkpoint) =>
      (await sourceOf(checkpoint)) ??
      (await fileSource(checkpoint instanceof URL ? fileURLToPath(checkpoint) : (checkpoint as string).replace(/^file:\/\//, ''))),
    downloads: (checkpoint) => isDownload(checkpoint),
    newRuntime: () => createNodeRuntime(),
    tuneCache: fileTuneCache(),
  });
}
