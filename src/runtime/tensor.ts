// A tensor: a shape and dtype over one pooled GPU buffer.
import { MusiqError } from '../common/errors.ts';

/** 'f16': IEEE half bit patterns (Uint16Array on the CPU side; kernels read them with `enable f16`). */
export type DType = 'f32' | 'u32' | 'i32' | 'f16';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : D extends 'f16' ? Uint16Array : Int32Array;

/** Buffer bytes for `size` values: 4-byte multiples, as bindings and copies need. */
export function bytesFor(size: number, dtype: DType): number {
  return dtype === 'f16' ? Math.ceil(size / 2) * 4 : size * 4;
}

/** Where a disposed tensor's buffer goes back to (the runtime's buffer pool). */
export interface BufferOwner {
  release(buffer: GPUBuffer): void;
}

export class Tensor<D extends DType = DType> {
  #buffer: GPUBuffer | undefined;
  readonly size: number;
  constructor(
    private readonly owner: BufferOwner,
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
    if (this.#buffer) this.owner.release(this.#buffer);
    this.#buffer = undefined;
  }
}
