// What every entry point's createScorer does once it knows how to read a checkpoint and get a
// device: refuse a caller's runtime that is already lost, and destroy a runtime of its own again
// if opening fails. reload() runs it again (new device, weights uploaded again).
import type { Runtime } from './runtime/runtime.ts';
import { lostRuntime } from './runtime/errors.ts';
import type { ByteSource } from './npz/source.ts';
import type { TuneCache } from './kernels/tune.ts';
import { chooseEngine, createScorerFrom, reloadable, type Scorer } from './musiq/scorer.ts';
import { compileWhileLoading } from './musiq/compile-ahead.ts';
import type { CheckpointInput, CreateScorerOptions } from './index.ts';

export interface Platform {
  /** The checkpoint argument as bytes: the shared forms, then the platform's own (paths, page URLs). */
  source(checkpoint: CheckpointInput): Promise<ByteSource>;
  /** Whether source() downloads it: a kernel may then compile meanwhile (compile-ahead.ts). */
  downloads(checkpoint: CheckpointInput): boolean;
  newRuntime(): Promise<Runtime>;
  tuneCache: TuneCache | undefined;
}

export function openScorer(options: CreateScorerOptions, platform: Platform): Promise<Scorer> {
  return reloadable(async () => {
    if (options.runtime?.lost) throw lostRuntime(options.runtime.lost);
    // A download makes the device first, so a kernel can compile meanwhile (compile-ahead.ts); a
    // file is read first, so that a missing one fails before any device is made.
    const download = platform.downloads(options.checkpoint);
    let runtime = options.runtime ?? (download ? await platform.newRuntime() : undefined);
    try {
      const compiling = download && runtime && chooseEngine(runtime, options.engine) === 'gpu' ? compileWhileLoading(runtime) : undefined;
      const source = await platform.source(options.checkpoint);
      runtime ??= await platform.newRuntime();
      return await createScorerFrom(runtime, source, {
        compiling,
        onProgress: options.onProgress,
        weights: options.weights,
        engine: options.engine,
        ownsRuntime: !options.runtime,
        tuneCache: platform.tuneCache,
        // A caller's own runtime may have been made with options (an adapter, no pacing) a second device would not share.
        newRuntime: options.runtime ? undefined : platform.newRuntime,
      });
    } catch (e) {
      if (!options.runtime) runtime?.destroy();
      throw e;
    }
  });
}
