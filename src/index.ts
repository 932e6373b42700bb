// What both entry points export. Node: src/index.node.ts; browsers: src/index.browser.ts.
// The reference travels into the shipped index.d.ts, so a consumer's tsc knows GPUDevice & co.
/// <reference types="@webgpu/types" preserve="true" />
export type { Scorer, ScoreResult, ScoreOptions, Timings, ImageInput, LoadProgress, LoadedPrecision, Engine } from './musiq/scorer.ts';
export type { FilePrecision } from './musiq/quantize.ts';
export type { MusiqDims, Variant } from './musiq/checkpoint.ts';
export type { RgbImage } from './image/rgb-image.ts';
export type { WeightPrecision } from './musiq/model.ts';
export type { ByteSource } from './npz/source.ts';
export { MusiqError } from './common/errors.ts';
export { GpuError, NoAdapterError, DeviceLostError } from './runtime/errors.ts';

export { Runtime } from './runtime/runtime.ts';
export { Tensor } from './runtime/tensor.ts';
export { decodeImage } from './image/decode.ts';
export { preprocess } from './musiq/preprocess.ts';
export { scoreFromHead } from './musiq/scorer.ts';

/** Where a checkpoint comes from: a path (Node only), an http(s) URL, bytes, a Blob, or a ByteSource. */
export type CheckpointInput = string | URL | ArrayBuffer | Uint8Array | Blob | import('./npz/source.ts').ByteSource;

export interface CreateScorerOptions {
  checkpoint: CheckpointInput;
  /** Share a runtime between scorers; by default each scorer owns one and destroys it on dispose(). */
  runtime?: import('./runtime/runtime.ts').Runtime;
  onProgress?: (p: import('./musiq/scorer.ts').LoadProgress) => void;
  /**
   * 'f16': the encoder's and the embedding's matmul weights are kept as f16 on the GPU (half
   * their memory; needs the adapter feature shader-f16); all math stays f32. Scores then differ
   * from the original's by ~2e-4 (`npm run bench:f16` measures it). 'f32': exact.
   * Default: 'f16' for a checkpoint converted by `musiq convert` (f16 or int8) where the adapter
   * has shader-f16 (an f16 file's values are f16 already; int8 ones are dequantized to f16, far
   * finer than int8's own step), 'f32' otherwise. `scorer.precision` says what was chosen.
   * The CPU engine (`engine`) always computes from f32 weights.
   */
  weights?: import('./musiq/model.ts').WeightPrecision;
  /**
   * Where the model runs. 'gpu': WGSL kernels on the WebGPU device. 'cpu': WebAssembly SIMD on
   * this thread (a browser page should then score in a Worker); same scores within ~1e-6; a
   * WebGPU device is still made, as `scorer.runtime`. Default 'auto': 'cpu' where the adapter is
   * a CPU that runs the kernels slower than that (SwiftShader: on a 2-core machine a first
   * 1024×768 image took 2.8-4.1 s on the CPU engine against 10.6-14.8 s; CPU adapters without
   * subgroups, as Deno's wgpu on lavapipe: a first image 0.52-0.77× the time, later ones
   * 0.91-0.94×), 'gpu' elsewhere. `scorer.engine` says what was chosen.
   */
  engine?: 'auto' | import('./musiq/scorer.ts').Engine;
}
