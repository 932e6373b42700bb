// The GPU layer MUSIQ needs, assembled: tensors on pooled buffers (pool.ts), cached pipelines
// (pipelines.ts), dispatches batched into few submits, readback, per-dispatch timing (timing.ts),
// and errors that name the kernel (error-scopes.ts).
import { openDevice, adapterLabel, type AdapterDescription } from './device.ts';
import { MusiqError } from '../common/errors.ts';
import { DeviceLostError, GpuError } from './errors.ts';
import { ErrorScopes } from './error-scopes.ts';
import { PipelineCache } from './pipelines.ts';
import { BufferPool, type MemoryStats } from './pool.ts';
import { Profiler, type KernelTiming } from './timing.ts';
import { Tensor, bytesFor, type DType, type TypedArrayFor } from './tensor.ts';
import { UniformArena } from './uniforms.ts';
import { TextureCopies, textureRows } from './texture-copy.ts';

export interface Dispatch {
  /** Kernel file name in src/kernels without `.wgsl`. */
  kernel: string;
  entry?: string;
  /** WGSL `override` values; each distinct set is its own pipeline. Shapes belong in `uniforms`. */
  constants?: Record<string, number>;
  /**
   * `#include` swaps, e.g. { 'lib/matmul_w': 'lib/matmul_w_f16' }: the same kernel body over
   * another storage type (WGSL has no generics). Each distinct set is its own pipeline.
   */
  includes?: Record<string, string>;
  /** Bound at @binding(0) as a uniform buffer. */
  uniforms?: ArrayBufferView;
  /**
   * Buffers at @binding(1..n) in order (@binding(0..n-1) when there are no uniforms), whole, or a
   * byte range of one (e.g. a 64 KiB window of a tensor bound as a uniform buffer).
   */
  buffers: (Tensor | { tensor: Tensor; offset: number; size: number })[];
  /** Texture views (textureOf) at the bindings after the buffers. */
  textures?: GPUTextureView[];
  workgroups: readonly [number, number?, number?];
  /** Shown in timings and errors; defaults to the kernel name. */
  label?: string;
}

export interface RuntimeOptions {
  gpu: GPU | undefined;
  /** Time every dispatch with timestamp queries (when the adapter has them). */
  profile?: boolean;
  /** Ask for WebGPU's default limits, not the adapter's maxima (e.g. to check that work fits a strict browser). */
  defaultLimits?: boolean;
}

export class Runtime {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly features: Set<string>;
  readonly limits: GPUSupportedLimits;
  readonly #pool: BufferPool;
  readonly #scopes: ErrorScopes;
  readonly #pipelines: PipelineCache;
  readonly #uniforms: UniformArena;
  /** textureOf()'s textures: f32 values as rgba32float, f16 as rgba16float. */
  readonly #textures: { f32: TextureCopies; f16: TextureCopies };
  readonly #profiler: Profiler | undefined;
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #batchLabels: string[] = [];
  #lost: string | undefined;
  #destroyed = false;
  /** Inside compileOnly(): the compiles its dispatches started. */
  #compileOnly: Promise<void>[] | undefined;

  private constructor(handle: Awaited<ReturnType<typeof openDevice>>, profile: boolean) {
    this.device = handle.device;
    this.adapter = handle.adapter;
    this.features = handle.features;
    this.limits = handle.device.limits;
    this.#pool = new BufferPool(this.device, () => this.flush());
    this.#scopes = new ErrorScopes(this.device);
    this.#pipelines = new PipelineCache(this.device, this.#scopes);
    this.#uniforms = new UniformArena(this.device);
    this.#textures = { f32: new TextureCopies(this.device), f16: new TextureCopies(this.device, 'rgba16float') };
    this.#profiler = profile && this.features.has('timestamp-query') ? new Profiler(this.device) : undefined;
    this.device.lost.then((info) => {
      if (!this.#destroyed) this.#lost = `${info.reason}: ${info.message}`;
    });
  }

  static async create(options: RuntimeOptions): Promise<Runtime> {
    return new Runtime(await openDevice(options.gpu, 'high-performance', options.defaultLimits), options.profile ?? false);
  }

  get adapterName(): string {
    return adapterLabel(this.adapter);
  }
  get profiling(): boolean {
    return this.#profiler !== undefined;
  }
  /**
   * GPU memory in bytes: `live` in tensors now, `peak` the most live since creation (or since
   * `resetPeak()`), `allocated` in storage buffers that exist (live + pooled for reuse), and
   * `allocatedPeak` the most that ever existed at once (since creation or `resetPeak()`). Between
   * images the pool keeps at most the largest recent working set (see trim()), and new buffers
   * replace stale ones, so after warm-up allocated stays within the weights + 1.5 × that set
   * (test/memory.test.ts). Not counted: textureOf()'s textures (on CPU adapters the attention's
   * copy of qkv, 12·T·D bytes: 4.2 MB for a 1024×768 image, and where the adapter has no subgroups
   * a matmul's W, at most 1.8 MB), freed at trim() once an image needs less than half of one.
   */
  get memory(): MemoryStats {
    return this.#pool.memory;
  }
  /** Why the device was lost (e.g. "destroyed: …", "unknown: …"), undefined while it works. */
  get lost(): string | undefined {
    return this.#lost;
  }
  resetPeak(): void {
    this.#pool.resetPeak();
  }

  /**
   * Ends a unit of work such as one image (call it when the work is read back): the pool keeps at
   * most the largest working set of the last 8 units, so memory follows the images.
   */
  trim(): void {
    this.flush();
    this.#pool.endEpoch();
    for (const t of Object.values(this.#textures)) t.trim();
  }

  /** @internal called by Tensor.dispose */
  release(buffer: GPUBuffer): void {
    this.#pool.release(buffer);
  }

  // ---- tensors --------------------------------------------------------------------------

  /** Uninitialised tensor (contents are whatever the pooled buffer held). */
  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    const size = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(size) || size < 0) throw new MusiqError(`musiq: bad tensor shape [${shape.join(', ')}]`);
    this.#checkAlive();
    return new Tensor(this, this.#pool.acquire(bytesFor(size, dtype)), shape, dtype);
  }

  upload<D extends DType = 'f32'>(data: TypedArrayFor<D>, shape: readonly number[] = [data.length], dtype: D = 'f32' as D): Tensor<D> {
    const t = this.empty(shape, dtype);
    if (data.length !== t.size) throw new MusiqError(`musiq: upload of ${data.length} values into shape [${shape.join(', ')}]`);
    // writeBuffer is ordered before the next submit, which is why freed buffers wait for a submit.
    // writeBuffer takes whole 4-byte words: an odd count of halves gets a zero pad.
    let padded: ArrayBufferView = data;
    if (data.byteLength % 4 !== 0) {
      const halves = new Uint16Array(data.length + 1);
      halves.set(data as Uint16Array);
      padded = halves;
    }
    // An empty write is skipped: Deno 2.9's WebGPU panics (aborts the process) on a 0-byte writeBuffer.
    if (padded.byteLength > 0) this.device.queue.writeBuffer(t.buffer, 0, padded.buffer, padded.byteOffset, padded.byteLength);
    return t;
  }

  zeros<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    const t = this.empty(shape, dtype);
    this.#encoderForCopy().clearBuffer(t.buffer, 0, Math.ceil(t.bytes / 4) * 4 || 4);
    return t;
  }

  // ---- dispatch -------------------------------------------------------------------------

  pipeline(kernel: string, entry = 'main', constants: Record<string, number> = {}, includes: Record<string, string> = {}): GPUComputePipeline {
    return this.#pipelines.get(kernel, entry, constants, includes);
  }

  /** Compiles a pipeline ahead of its first dispatch, without blocking (PipelineCache.prepare). */
  async preparePipeline(kernel: string, entry = 'main', constants: Record<string, number> = {}, includes: Record<string, string> = {}): Promise<void> {
    this.#checkAlive();
    return this.#pipelines.prepare(kernel, entry, constants, includes);
  }

  /**
   * Runs `encode` with its dispatches turned into pipeline compiles (preparePipeline): nothing
   * is dispatched, and the caller is not blocked by the driver compiling, as it is by a first
   * dispatch where the driver compiles at pipeline creation (SwiftShader). The buffers `encode`
   * makes are made as usual. Resolves when every pipeline is compiled or has failed to (a
   * dispatch then compiles it again and reports the error).
   */
  compileOnly(encode: () => void): Promise<void> {
    this.#checkAlive();
    const compiles: Promise<void>[] = [];
    this.#compileOnly = compiles;
    try {
      encode();
    } finally {
      this.#compileOnly = undefined;
    }
    return Promise.allSettled(compiles).then(() => undefined);
  }

  dispatch(d: Dispatch): void {
    this.#checkAlive();
    if (this.#compileOnly) {
      this.#compileOnly.push(this.#pipelines.prepare(d.kernel, d.entry, d.constants, d.includes));
      return;
    }
    const label = d.label ?? d.kernel;
    const pipeline = this.pipeline(d.kernel, d.entry, d.constants, d.includes);
    const entries: GPUBindGroupEntry[] = [];
    if (d.uniforms) entries.push({ binding: 0, resource: this.#uniforms.bind(d.uniforms) });
    const first = entries.length;
    d.buffers.forEach((b, i) =>
      entries.push({ binding: first + i, resource: 'tensor' in b ? { buffer: b.tensor.buffer, offset: b.offset, size: b.size } : { buffer: b.buffer, size: Math.max(4, b.bytes) } }),
    );
    d.textures?.forEach((v, i) => entries.push({ binding: first + d.buffers.length + i, resource: v }));
    const [x, y = 1, z = 1] = d.workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new GpuError(label, `dispatch of ${x}×${y}×${z} workgroups exceeds ${maxWg} per dimension (use grid())`);
    }
    this.#scopes.run(label, () => {
      const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
      const pass = this.#computePass(label);
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      if (x * y * z > 0) pass.dispatchWorkgroups(x, y, z);
      if (this.#profiler) this.#endPass();
    });
    this.#batchLabels.push(label);
  }

  /**
   * `t`'s values (f32 or f16, a multiple of 4) copied, at this point of the batch, into an
   * rgba32float (rgba16float) texture `width` texels wide (a row a multiple of 256 bytes: width a
   * multiple of 16, or 32 for f16), row by row: values 4i..4i+3 at texel (i % width, ⌊i / width⌋).
   * The view serves the dispatches encoded before the next textureOf() of that dtype (one texture
   * per dtype is reused). Throws when the rows exceed maxTextureDimension2D (texture-copy.ts,
   * textureRows, says beforehand).
   */
  textureOf(t: Tensor, width: number): GPUTextureView {
    this.#checkAlive();
    if ((t.dtype !== 'f32' && t.dtype !== 'f16') || t.size % 4 !== 0) throw new MusiqError(`musiq: textureOf needs f32 or f16 values in whole texels, got ${t.dtype} × ${t.size}`);
    const copies = t.dtype === 'f16' ? this.#textures.f16 : this.#textures.f32;
    if ((width * copies.texelBytes) % 256 !== 0 || width > this.limits.maxTextureDimension2D) {
      throw new MusiqError(`musiq: texture width ${width} is not a multiple of ${256 / copies.texelBytes} texels within the adapter's limit`);
    }
    const rows = textureRows(t.size, width);
    if (rows > this.limits.maxTextureDimension2D) throw new MusiqError(`musiq: ${t.size} values need ${rows} texture rows; the adapter allows ${this.limits.maxTextureDimension2D}`);
    return copies.copy(this.#encoderForCopy(), t.buffer, t.size, width);
  }

  /** Copies `src` into `dst` (whole tensor unless sizes given, in elements). */
  copy(src: Tensor, dst: Tensor, count = src.size, srcOffset = 0, dstOffset = 0): void {
    if (src.dtype === 'f16' || dst.dtype === 'f16') throw new MusiqError('musiq: copy() of f16 tensors is not supported (element offsets are in 4-byte words)');
    this.#encoderForCopy().copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, count * 4);
  }

  /** Submits everything encoded so far. Errors surface at the next `sync()`/`read()`. */
  flush(): void {
    const encoder = this.#encoder;
    if (encoder) {
      this.#endPass();
      const startTimingRead = this.#profiler?.resolve(encoder);
      // Encoding errors surface at finish(), and the submit of the invalid buffer raises one more:
      // both belong to this batch.
      this.#scopes.run(this.#batchLabels.join(', ') || 'copy', () => {
        const commands = encoder.finish();
        this.#uniforms.write();
        this.device.queue.submit([commands]);
      });
      startTimingRead?.();
      this.#encoder = undefined;
      this.#batchLabels = [];
    }
    this.#uniforms.submitted();
    this.#pool.submitted();
  }

  /** Flushes and waits for the GPU; throws the first error any kernel caused. */
  async sync(): Promise<void> {
    await this.done();
    await this.#throwErrors();
  }

  /**
   * Submits everything encoded so far and resolves with performance.now() once the GPU has run it,
   * without waiting on error scopes (the next sync()/read() throws any error): a caller can time a
   * stage while it encodes the next one, where sync() would leave the GPU idle for a round trip.
   */
  done(): Promise<number> {
    this.flush();
    return this.device.queue.onSubmittedWorkDone().then(() => performance.now());
  }

  async read<D extends DType>(t: Tensor<D>, count = t.size, offset = 0): Promise<TypedArrayFor<D>> {
    return (await this.#readBack([{ t, count, offset }]))[0] as TypedArrayFor<D>;
  }

  /** Several tensors, whole, in one submit and one wait: one round trip instead of one each. */
  readAll(tensors: readonly Tensor[]): Promise<TypedArrayFor<DType>[]> {
    return this.#readBack(tensors.map((t) => ({ t, count: t.size, offset: 0 })));
  }

  async #readBack(parts: { t: Tensor; count: number; offset: number }[]): Promise<TypedArrayFor<DType>[]> {
    for (const { t, count, offset } of parts) {
      if (t.dtype === 'f16' && (offset !== 0 || count !== t.size)) throw new MusiqError('musiq: an f16 tensor is read whole');
    }
    const bytes = parts.map(({ t, count }) => (t.dtype === 'f16' ? t.bytes : count * 4));
    const staging = bytes.map((n) => this.device.createBuffer({ size: Math.max(4, n), usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ }));
    try {
      parts.forEach(({ t, offset }, i) => {
        if (bytes[i] > 0) this.#encoderForCopy().copyBufferToBuffer(t.buffer, offset * 4, staging[i], 0, bytes[i]);
      });
      this.flush();
      await this.#throwErrors();
      try {
        await Promise.all(staging.map((s) => s.mapAsync(1 /* READ */)));
      } catch (e) {
        await this.#throwErrors();
        throw new MusiqError(`musiq: readback failed: ${(e as Error).message}`);
      }
      await this.#throwErrors();
      return parts.map(({ t, count }, i) => {
        const out = staging[i].getMappedRange(0, Math.max(4, bytes[i])).slice(0, bytes[i]);
        staging[i].unmap();
        if (t.dtype === 'f16') return new Uint16Array(out, 0, count);
        return t.dtype === 'f32' ? new Float32Array(out) : t.dtype === 'u32' ? new Uint32Array(out) : new Int32Array(out);
      });
    } finally {
      for (const s of staging) s.destroy();
    }
  }

  /** Per-dispatch GPU times of everything submitted since the last call (profile mode only). */
  async timings(): Promise<KernelTiming[]> {
    this.flush();
    return this.#profiler ? this.#profiler.take() : [];
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#profiler?.destroy();
    for (const t of Object.values(this.#textures)) t.destroy();
    this.device.destroy();
    this.#pool.close();
    this.#pipelines.clear();
  }

  // ---- internals ------------------------------------------------------------------------

  #checkAlive(): void {
    if (this.#lost) throw new DeviceLostError(`musiq: the GPU device was lost (${this.#lost}); scorer.reload() gets a new device and uploads the weights again`);
    if (this.#destroyed) throw new MusiqError('musiq: runtime used after destroy()');
  }

  async #throwErrors(): Promise<void> {
    await this.#scopes.throwFirst();
    this.#checkAlive();
  }

  #encoderForCopy(): GPUCommandEncoder {
    this.#endPass();
    return (this.#encoder ??= this.device.createCommandEncoder());
  }

  #computePass(label: string): GPUComputePassEncoder {
    if (this.#pass) return this.#pass;
    if (this.#profiler?.full) this.flush();
    this.#encoder ??= this.device.createCommandEncoder();
    this.#pass = this.#encoder.beginComputePass(this.#profiler ? { timestampWrites: this.#profiler.timestampWrites(label) } : {});
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = undefined;
  }
}
