// Kernel uniforms: packed on the CPU, suballocated from 64 KiB chunks that are written once per
// submit, so a batch of hundreds of dispatches costs a few writeBuffer calls.
const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 everywhere
const UNIFORM_CHUNK = 64 * 1024;

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

/** Splits a 1-D workgroup count over x and y so neither exceeds the per-dimension limit. */
export function grid(count: number, max = 65535): [number, number] {
  if (count <= max) return [Math.max(count, 0), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

export class UniformArena {
  #chunks: { buffer: GPUBuffer; data: Uint8Array; used: number }[] = [];
  #free: GPUBuffer[] = []; // uniform chunks are not storage buffers: never mixed into the buffer pool
  #inFlight: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** A binding holding `data`, valid for the batch being encoded. */
  bind(data: ArrayBufferView): GPUBufferBinding {
    const size = Math.ceil(data.byteLength / 16) * 16;
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used + size > UNIFORM_CHUNK) {
      const buffer = this.#free.pop() ?? this.device.createBuffer({ size: UNIFORM_CHUNK, usage: 0x40 /* UNIFORM */ | 0x8 /* COPY_DST */ });
      chunk = { buffer, data: new Uint8Array(UNIFORM_CHUNK), used: 0 };
      this.#chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    chunk.used += Math.ceil(size / UNIFORM_SLOT) * UNIFORM_SLOT;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Writes the batch's uniforms; call right before its submit (writes are ordered before it). */
  write(): void {
    for (const c of this.#chunks) this.device.queue.writeBuffer(c.buffer, 0, c.data.buffer, c.data.byteOffset, Math.max(c.used, 4));
    this.#inFlight.push(...this.#chunks.map((c) => c.buffer));
    this.#chunks = [];
  }

  /** After a submit: the chunks written before the last one may be overwritten by later batches. */
  submitted(): void {
    // A queue write after a submit is ordered after that submit's reads: reuse is safe.
    this.#free.push(...this.#inFlight);
    this.#inFlight = [];
  }
}
