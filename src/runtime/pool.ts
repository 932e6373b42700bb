// The storage-buffer pool: tensors of one image reuse the buffers of the last, and memory follows
// the work (a run of small images after a large one gives the large one's memory back).
import { MusiqError } from '../common/errors.ts';

const BUFFER_USAGE = 0x80 /* STORAGE */ | 0x40 /* UNIFORM: matmul_uniform binds windows of X */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

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

export interface MemoryStats {
  live: number;
  peak: number;
  allocated: number;
  allocatedPeak: number;
}

export class BufferPool {
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
  #closed = false;

  /** `submit` sends the pending batch to the GPU, which makes the buffers released before it reusable. */
  constructor(
    private readonly device: GPUDevice,
    private readonly submit: () => void,
  ) {}

  get memory(): MemoryStats {
    return { live: this.#bytesLive, peak: this.#bytesPeak, allocated: this.#bytesAllocated, allocatedPeak: this.#bytesAllocatedPeak };
  }

  resetPeak(): void {
    this.#bytesPeak = this.#bytesLive;
    this.#bytesAllocatedPeak = this.#bytesAllocated;
  }

  acquire(bytes: number): GPUBuffer {
    const size = bucket(bytes);
    checkFits(bytes, size, this.device.limits);
    let buffer = this.#takeFree(size);
    if (!buffer && this.#releasedBytes >= size) {
      // Submitting now makes the freed buffers reusable: a few more submits per image instead of
      // a pool that holds every tensor an image ever had (what the queue order makes safe: the
      // submitted reads of a buffer run before any later write to it).
      this.submit();
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

  /** A tensor's buffer, given back; reusable after the next submit (see submitted()). */
  release(buffer: GPUBuffer): void {
    this.#bytesLive -= buffer.size;
    this.#epochLow = Math.min(this.#epochLow, this.#bytesLive);
    if (this.#closed) return;
    this.#released.push(buffer);
    this.#releasedBytes += buffer.size;
  }

  /** Called after each submit: buffers released before it are free for the work after it. */
  submitted(): void {
    for (const b of this.#released) {
      const list = this.#free.get(b.size);
      if (list) list.push(b);
      else this.#free.set(b.size, [b]);
      this.#freeSince.set(b, this.#epoch);
      this.#freeBytes += b.size;
    }
    this.#released = [];
    this.#releasedBytes = 0;
  }

  /**
   * Ends an epoch (call it after a submit, when the work is read back, so no pooled buffer is in
   * flight): destroys pooled buffers not reused for 8 epochs, then the longest unused ones until
   * the pool holds at most the largest working set of the last 8 epochs.
   */
  endEpoch(): void {
    this.#recentSets.push(this.#epochHigh - this.#epochLow);
    if (this.#recentSets.length > 8) this.#recentSets.shift();
    this.#epoch++;
    this.#epochLow = this.#epochHigh = this.#bytesLive;
    const cap = Math.max(...this.#recentSets);
    this.#evict(Math.max(0, this.#freeBytes - cap), () => true);
    this.#evict(Infinity, (since) => since <= this.#epoch - 8);
  }

  /** The device is going away: forget every pooled buffer (destroying the device frees them). */
  close(): void {
    this.#closed = true;
    this.#free.clear();
    this.#freeSince.clear();
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
}
