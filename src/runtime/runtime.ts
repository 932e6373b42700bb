// The whole GPU layer MUSIQ needs: tensors on pooled buffers, cached pipelines, dispatches
// batched into few submits, readback, per-dispatch timing, and errors that name the kernel.
import { openDevice, adapterLabel, type AdapterDescription } from './device.ts';
import { DeviceLostError, GpuError, MusiqError } from './errors.ts';
import { shaderSource } from './shaders.ts';

/** 'f16': IEEE half bit patterns (Uint16Array on the CPU side; kernels read them with `enable f16`). */
export type DType = 'f32' | 'u32' | 'i32' | 'f16';
type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : D extends 'f16' ? Uint16Array : Int32Array;

/** Buffer bytes for `size` values: 4-byte multiples, as bindings and copies need. */
function bytesFor(size: number, dtype: DType): number {
  return dtype === 'f16' ? Math.ceil(size / 2) * 4 : size * 4;
}

const BUFFER_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */
const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 everywhere
const UNIFORM_CHUNK = 64 * 1024;
const MAX_QUERIES = 2048; // timestamp pairs per flush when profiling

export class Tensor<D extends DType = DType> {
  #buffer: GPUBuffer | undefined;
  readonly size: number;
  constructor(
    private readonly rt: Runtime,
    buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: D,
  ) {
    this.#buffer = buffer;
    this.size = shape.reduce((a, b) => a * b, 1);
  }
  get buffer(): GPUBuffer {
    if (!this.#buffer) throw new MusiqError('musiq: tensor used after dispose()');
    return this.#buffer;
  }
  get bytes(): number {
    return bytesFor(this.size, this.dtype);
  }
  get disposed(): boolean {
    return this.#buffer === undefined;
  }
  /** Returns the buffer to the pool; it is reused only after the current batch is submitted. */
  dispose(): void {
    if (this.#buffer) this.rt.release(this.#buffer);
    this.#buffer = undefined;
  }
}

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
  /** Storage buffers at @binding(1..n) in order (@binding(0..n-1) when there are no uniforms). */
  buffers: Tensor[];
  workgroups: readonly [number, number?, number?];
  /** Shown in timings and errors; defaults to the kernel name. */
  label?: string;
}

export interface KernelTiming {
  label: string;
  ms: number;
}

interface PendingScope {
  label: string;
  error: Promise<GPUError | null>;
}

/** Rounds a byte size up so buffers of near sizes (sequence lengths vary per image) share a pool bucket. */
function bucket(bytes: number): number {
  const b = Math.max(256, bytes);
  const step = Math.max(256, 2 ** Math.floor(Math.log2(b)) / 8);
  return Math.ceil(b / step) * step;
}

/** A tensor the adapter cannot bind is a one-line error naming the limit, before any GPU call. */
export function checkFits(bytes: number, size: number, limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): void {
  for (const name of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
    if (size > limits[name]) {
      throw new MusiqError(`musiq: a ${(bytes / 2 ** 20).toFixed(1)} MiB tensor exceeds this adapter's ${name} of ${limits[name]} bytes (${(limits[name] / 2 ** 20).toFixed(0)} MiB)`);
    }
  }
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
  #free = new Map<number, GPUBuffer[]>(); // reusable now, by size
  #freeSince = new Map<GPUBuffer, number>(); // the epoch each free buffer was last given back in
  #freeBytes = 0;
  #released: GPUBuffer[] = []; // freed since the last submit: the pending batch may still read them
  #releasedBytes = 0;
  #bytesLive = 0;
  #bytesPeak = 0;
  #bytesAllocated = 0;
  #bytesAllocatedPeak = 0;
  // An epoch ends at each trim() (a scorer calls it after each image). Per epoch: the working set,
  // the live bytes above the epoch's low-water mark (what was live throughout: the weights).
  #epoch = 0;
  #epochLow = 0;
  #epochHigh = 0;
  #recentSets: number[] = [];
  #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #batchLabels: string[] = [];
  #uniformChunks: { buffer: GPUBuffer; data: Uint8Array; used: number }[] = [];
  #uniformFree: GPUBuffer[] = []; // uniform chunks are not storage buffers: never mix them into #free
  #uniformReleased: GPUBuffer[] = [];
  #scopes: PendingScope[] = [];
  #uncaptured: string[] = [];
  #lost: string | undefined;
  #profile: boolean;
  #querySet: GPUQuerySet | undefined;
  #queryLabels: string[] = [];
  #timingReads: Promise<KernelTiming[]>[] = [];
  #destroyed = false;

  private constructor(handle: Awaited<ReturnType<typeof openDevice>>, profile: boolean) {
    this.device = handle.device;
    this.adapter = handle.adapter;
    this.features = handle.features;
    this.limits = handle.device.limits;
    this.#profile = profile && this.features.has('timestamp-query');
    this.device.lost.then((info) => {
      if (!this.#destroyed) this.#lost = `${info.reason}: ${info.message}`;
    });
    this.device.addEventListener('uncapturederror', (ev) => {
      this.#uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  static async create(options: RuntimeOptions): Promise<Runtime> {
    return new Runtime(await openDevice(options.gpu, 'high-performance', options.defaultLimits), options.profile ?? false);
  }

  get adapterName(): string {
    return adapterLabel(this.adapter);
  }
  get profiling(): boolean {
    return this.#profile;
  }
  /**
   * GPU memory in bytes: `live` in tensors now, `peak` the most live since creation (or since
   * `resetPeak()`), `allocated` in storage buffers that exist (live + pooled for reuse), and
   * `allocatedPeak` the most that ever existed at once (since creation or `resetPeak()`). Between
   * images the pool keeps at most the largest recent working set (see trim()), and new buffers
   * replace stale ones, so after warm-up allocated stays within the weights + 1.5 × that set
   * (test/memory.test.ts).
   */
  get memory(): { live: number; peak: number; allocated: number; allocatedPeak: number } {
    return { live: this.#bytesLive, peak: this.#bytesPeak, allocated: this.#bytesAllocated, allocatedPeak: this.#bytesAllocatedPeak };
  }
  /** Why the device was lost (e.g. "destroyed: …", "unknown: …"), undefined while it works. */
  get lost(): string | undefined {
    return this.#lost;
  }
  resetPeak(): void {
    this.#bytesPeak = this.#bytesLive;
    this.#bytesAllocatedPeak = this.#bytesAllocated;
  }

  // ---- tensors --------------------------------------------------------------------------

  #acquire(bytes: number): GPUBuffer {
    this.#checkAlive();
    const size = bucket(bytes);
    checkFits(bytes, size, this.limits);
    let buffer = this.#takeFree(size);
    if (!buffer && this.#releasedBytes >= size) {
      // Submitting now makes the freed buffers reusable: a few more submits per image instead of
      // a pool that holds every tensor an image ever had (what the queue order makes safe: the
      // submitted reads of a buffer run before any later write to it).
      this.flush();
      buffer = this.#takeFree(size);
    }
    if (!buffer) {
      // A new buffer replaces pooled ones left from earlier epochs (other image sizes, which did
      // not fit): the pool follows the work instead of growing by each new size. Destroying a
      // buffer that submitted work may still use is safe: WebGPU frees it after that work.
      this.#evict(size, (since) => since < this.#epoch);
      buffer = this.device.createBuffer({ size, usage: BUFFER_USAGE });
      this.#bytesAllocated += size;
      this.#bytesAllocatedPeak = Math.max(this.#bytesAllocatedPeak, this.#bytesAllocated);
    }
    this.#bytesLive += buffer.size;
    this.#bytesPeak = Math.max(this.#bytesPeak, this.#bytesLive);
    this.#epochHigh = Math.max(this.#epochHigh, this.#bytesLive);
    return buffer;
  }

  /**
   * The smallest pooled buffer of at least `size` bytes and at most a quarter more (two buckets
   * up): images of different sizes then share buffers instead of each keeping its own set.
   */
  #takeFree(size: number): GPUBuffer | undefined {
    let best: number | undefined;
    for (const [s, list] of this.#free) if (list.length && s >= size && s <= size * 1.25 && (best === undefined || s < best)) best = s;
    const buffer = best === undefined ? undefined : this.#free.get(best)!.pop()!;
    if (buffer) {
      this.#freeBytes -= buffer.size;
      this.#freeSince.delete(buffer);
    }
    return buffer;
  }

  /**
   * Ends an epoch (a unit of work such as one image; call it when the work is read back, so no
   * pooled buffer is in flight): destroys pooled buffers not reused for 8 epochs, then the longest
   * unused ones until the pool holds at most the largest working set of the last 8 epochs.
   * A run of small images after a large one thus gives the large one's memory back within 8 images.
   */
  trim(): void {
    this.flush();
    this.#recentSets.push(this.#epochHigh - this.#epochLow);
    if (this.#recentSets.length > 8) this.#recentSets.shift();
    this.#epoch++;
    this.#epochLow = this.#epochHigh = this.#bytesLive;
    const cap = Math.max(...this.#recentSets);
    this.#evict(Math.max(0, this.#freeBytes - cap), () => true);
    this.#evict(Infinity, (since) => since <= this.#epoch - 8);
  }

  /** Destroys the longest-unused pooled buffers that `may` go, until `bytes` are gone. */
  #evict(bytes: number, may: (since: number) => boolean): void {
    if (bytes <= 0 || this.#freeBytes === 0) return;
    const byAge = [...this.#freeSince].sort((a, b) => a[1] - b[1] || b[0].size - a[0].size);
    let gone = 0;
    for (const [buffer, since] of byAge) {
      if (gone >= bytes || !may(since)) break;
      const list = this.#free.get(buffer.size)!;
      list.splice(list.indexOf(buffer), 1);
      this.#freeSince.delete(buffer);
      this.#freeBytes -= buffer.size;
      this.#bytesAllocated -= buffer.size;
      gone += buffer.size;
      buffer.destroy();
    }
  }

  /** @internal called by Tensor.dispose */
  release(buffer: GPUBuffer): void {
    this.#bytesLive -= buffer.size;
    this.#epochLow = Math.min(this.#epochLow, this.#bytesLive);
    if (this.#destroyed) return;
    this.#released.push(buffer);
    this.#releasedBytes += buffer.size;
  }

  /** Uninitialised tensor (contents are whatever the pooled buffer held). */
  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    const size = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(size) || size < 0) throw new MusiqError(`musiq: bad tensor shape [${shape.join(', ')}]`);
    return new Tensor(this, this.#acquire(bytesFor(size, dtype)), shape, dtype);
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
    const key = `${kernel}:${entry}:${JSON.stringify(constants)}:${JSON.stringify(includes)}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      const label = kernel;
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ label, code: shaderSource(kernel, includes) });
      p = this.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: entry, constants } });
      this.#scopes.push({ label, error: this.device.popErrorScope() });
      this.#pipelines.set(key, p);
    }
    return p;
  }

  dispatch(d: Dispatch): void {
    this.#checkAlive();
    const label = d.label ?? d.kernel;
    const pipeline = this.pipeline(d.kernel, d.entry, d.constants, d.includes);
    const entries: GPUBindGroupEntry[] = [];
    if (d.uniforms) entries.push({ binding: 0, resource: this.#uniform(d.uniforms) });
    const first = entries.length;
    d.buffers.forEach((t, i) => entries.push({ binding: first + i, resource: { buffer: t.buffer, size: Math.max(4, t.bytes) } }));
    const [x, y = 1, z = 1] = d.workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new GpuError(label, `dispatch of ${x}×${y}×${z} workgroups exceeds ${maxWg} per dimension (use grid())`);
    }
    this.device.pushErrorScope('validation');
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.#computePass(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    if (x * y * z > 0) pass.dispatchWorkgroups(x, y, z);
    if (this.#profile) this.#endPass();
    this.#scopes.push({ label, error: this.device.popErrorScope() });
    this.#batchLabels.push(label);
  }

  /** Copies `src` into `dst` (whole tensor unless sizes given, in elements). */
  copy(src: Tensor, dst: Tensor, count = src.size, srcOffset = 0, dstOffset = 0): void {
    if (src.dtype === 'f16' || dst.dtype === 'f16') throw new MusiqError('musiq: copy() of f16 tensors is not supported (element offsets are in 4-byte words)');
    this.#encoderForCopy().copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, count * 4);
  }

  /** Submits everything encoded so far. Errors surface at the next `sync()`/`read()`. */
  flush(): void {
    if (!this.#encoder) {
      this.#recycle();
      return;
    }
    this.#endPass();
    const labels = this.#batchLabels.join(', ');
    const timing = this.#profile && this.#queryLabels.length ? this.#resolveTimings() : undefined;
    // Encoding errors surface at finish(), and the submit of the invalid buffer raises one more:
    // both belong to this batch.
    this.device.pushErrorScope('validation');
    const commands = this.#encoder.finish();
    for (const c of this.#uniformChunks) this.device.queue.writeBuffer(c.buffer, 0, c.data.buffer, c.data.byteOffset, Math.max(c.used, 4));
    this.device.queue.submit([commands]);
    this.#scopes.push({ label: labels || 'copy', error: this.device.popErrorScope() });
    // Mapping may only start once the submit that fills the buffer is queued.
    if (timing) this.#timingReads.push(timing());
    for (const c of this.#uniformChunks) this.#uniformReleased.push(c.buffer);
    this.#uniformChunks = [];
    this.#encoder = undefined;
    this.#batchLabels = [];
    this.#recycle();
  }

  /** Flushes and waits for the GPU; throws the first error any kernel caused. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.#throwErrors();
  }

  async read<D extends DType>(t: Tensor<D>, count = t.size, offset = 0): Promise<TypedArrayFor<D>> {
    if (t.dtype === 'f16' && (offset !== 0 || count !== t.size)) throw new MusiqError('musiq: an f16 tensor is read whole');
    const bytes = t.dtype === 'f16' ? t.bytes : count * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ });
    try {
      if (bytes > 0) this.#encoderForCopy().copyBufferToBuffer(t.buffer, offset * 4, staging, 0, bytes);
      this.flush();
      await this.#throwErrors();
      try {
        await staging.mapAsync(1 /* READ */);
      } catch (e) {
        await this.#throwErrors();
        this.#checkAlive();
        throw new MusiqError(`musiq: readback failed: ${(e as Error).message}`);
      }
      await this.#throwErrors();
      const out = staging.getMappedRange(0, Math.max(4, bytes)).slice(0, bytes);
      staging.unmap();
      if (t.dtype === 'f16') return new Uint16Array(out, 0, count) as TypedArrayFor<D>;
      return (t.dtype === 'f32' ? new Float32Array(out) : t.dtype === 'u32' ? new Uint32Array(out) : new Int32Array(out)) as TypedArrayFor<D>;
    } finally {
      staging.destroy();
    }
  }

  /** Per-dispatch GPU times of everything submitted since the last call (profile mode only). */
  async timings(): Promise<KernelTiming[]> {
    this.flush();
    const reads = this.#timingReads;
    this.#timingReads = [];
    return (await Promise.all(reads)).flat();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#querySet?.destroy();
    this.device.destroy();
    this.#free.clear();
    this.#freeSince.clear();
    this.#pipelines.clear();
  }

  // ---- internals ------------------------------------------------------------------------

  #checkAlive(): void {
    if (this.#lost) throw new DeviceLostError(`musiq: the GPU device was lost (${this.#lost}); scorer.reload() gets a new device and uploads the weights again`);
    if (this.#destroyed) throw new MusiqError('musiq: runtime used after destroy()');
  }

  async #throwErrors(): Promise<void> {
    const scopes = this.#scopes;
    this.#scopes = [];
    const errors = await Promise.all(scopes.map((s) => s.error.catch((e: Error) => ({ message: e.message }) as GPUError)));
    const i = errors.findIndex((e) => e !== null);
    if (i >= 0) throw new GpuError(scopes[i].label, errors[i]!.message);
    if (this.#uncaptured.length) throw new GpuError('unknown', this.#uncaptured.splice(0).join(' | '));
    this.#checkAlive();
  }

  #recycle(): void {
    for (const b of this.#released) {
      const list = this.#free.get(b.size);
      if (list) list.push(b);
      else this.#free.set(b.size, [b]);
      this.#freeSince.set(b, this.#epoch);
      this.#freeBytes += b.size;
    }
    this.#released = [];
    this.#releasedBytes = 0;
    this.#uniformFree.push(...this.#uniformReleased);
    this.#uniformReleased = [];
  }

  #encoderForCopy(): GPUCommandEncoder {
    this.#endPass();
    return (this.#encoder ??= this.device.createCommandEncoder());
  }

  #computePass(label: string): GPUComputePassEncoder {
    if (this.#pass) return this.#pass;
    this.#encoder ??= this.device.createCommandEncoder();
    const desc: GPUComputePassDescriptor = {};
    if (this.#profile) {
      if (this.#queryLabels.length * 2 >= MAX_QUERIES) {
        this.flush();
        this.#encoder = this.device.createCommandEncoder();
      }
      this.#querySet ??= this.device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
      const i = this.#queryLabels.push(label) - 1;
      desc.timestampWrites = { querySet: this.#querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
    }
    this.#pass = this.#encoder.beginComputePass(desc);
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = undefined;
  }

  #uniform(data: ArrayBufferView): GPUBufferBinding {
    const size = Math.ceil(data.byteLength / 16) * 16;
    let chunk = this.#uniformChunks.at(-1);
    if (!chunk || chunk.used + size > UNIFORM_CHUNK) {
      const buffer = this.#uniformFree.pop() ?? this.device.createBuffer({ size: UNIFORM_CHUNK, usage: 0x40 /* UNIFORM */ | 0x8 });
      chunk = { buffer, data: new Uint8Array(UNIFORM_CHUNK), used: 0 };
      this.#uniformChunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    chunk.used += Math.ceil(size / UNIFORM_SLOT) * UNIFORM_SLOT;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Encodes the query resolve; returns the read to start after the submit. */
  #resolveTimings(): () => Promise<KernelTiming[]> {
    const labels = this.#queryLabels;
    this.#queryLabels = [];
    const n = labels.length * 2;
    const resolve = this.device.createBuffer({ size: n * 8, usage: 0x200 /* QUERY_RESOLVE */ | 0x4 });
    const staging = this.device.createBuffer({ size: n * 8, usage: 0x1 | 0x8 });
    this.#encoder!.resolveQuerySet(this.#querySet!, 0, n, resolve, 0);
    this.#encoder!.copyBufferToBuffer(resolve, 0, staging, 0, n * 8);
    return async () => {
      await staging.mapAsync(1);
      const t = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.destroy();
      resolve.destroy();
      return labels.map((label, i) => ({ label, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
    };
  }
}

/** Splits a 1-D workgroup count over x and y so neither exceeds the per-dimension limit. */
export function grid(count: number, max = 65535): [number, number] {
  if (count <= max) return [Math.max(count, 0), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/** Packs mixed u32/f32 uniform fields (in declaration order, 4 bytes each). */
export function uniforms(fields: readonly (number | { f32: number })[]): Uint32Array {
  const u = new Uint32Array(Math.ceil(fields.length / 4) * 4);
  const f = new Float32Array(u.buffer);
  fields.forEach((v, i) => {
    if (typeof v === 'number') u[i] = v;
    else f[i] = v.f32;
  });
  return u;
}
