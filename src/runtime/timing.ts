// Per-dispatch GPU time from timestamp queries: in profile mode every dispatch gets its own
// compute pass, whose begin and end timestamps are resolved and read after each submit.
const MAX_QUERIES = 2048; // timestamp pairs per submit

export interface KernelTiming {
  label: string;
  ms: number;
}

export class Profiler {
  #querySet: GPUQuerySet | undefined;
  #labels: string[] = [];
  #reads: Promise<KernelTiming[]>[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** True when the batch has no room for another pass's timestamps: submit before the next one. */
  get full(): boolean {
    return this.#labels.length * 2 >= MAX_QUERIES;
  }

  /** The timestamp writes of the next pass, labelled for the report. */
  timestampWrites(label: string): GPUComputePassTimestampWrites {
    this.#querySet ??= this.device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
    const i = this.#labels.push(label) - 1;
    return { querySet: this.#querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Encodes the resolve of this batch's queries; returns the read to start once it is submitted. */
  resolve(encoder: GPUCommandEncoder): (() => void) | undefined {
    if (!this.#labels.length) return undefined;
    const labels = this.#labels;
    this.#labels = [];
    const n = labels.length * 2;
    const resolved = this.device.createBuffer({ size: n * 8, usage: 0x200 /* QUERY_RESOLVE */ | 0x4 /* COPY_SRC */ });
    const staging = this.device.createBuffer({ size: n * 8, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ });
    encoder.resolveQuerySet(this.#querySet!, 0, n, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, n * 8);
    // Mapping may only start once the submit that fills the buffer is queued.
    return () => {
      this.#reads.push(
        staging.mapAsync(1 /* READ */).then(() => {
          const t = new BigInt64Array(staging.getMappedRange().slice(0));
          staging.destroy();
          resolved.destroy();
          return labels.map((label, i) => ({ label, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
        }),
      );
    };
  }

  /** Every timing read since the last call. */
  async take(): Promise<KernelTiming[]> {
    const reads = this.#reads;
    this.#reads = [];
    return (await Promise.all(reads)).flat();
  }

  destroy(): void {
    this.#querySet?.destroy();
  }
}
