// The `musiq bench --json` report, schema "musiq-bench/1" (documented in the README). Other tools
// read these files: fields are only ever added under this schema name, never renamed or removed.
export const BENCH_SCHEMA = 'musiq-bench/1';

export interface BenchRuntimeInfo {
  /** 'node', 'bun', 'deno' or 'browser'. */
  name: string;
  version: string;
  /** The WebGPU implementation where it can be known, e.g. "Dawn (npm webgpu 0.6.2)"; a browser's user agent. */
  webgpu?: string;
}

export interface BenchAdapterInfo {
  description: string;
  vendor: string;
  architecture: string;
  device: string;
  isFallback: boolean;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  /** The optional features MUSIQ uses that the device has: subgroups, shader-f16, timestamp-query. */
  features: string[];
  /** The limits that matter to the kernels, as the device got them. */
  limits: Record<string, number>;
}

export interface BenchPeak {
  /** f32 multiply-add throughput: the best of the peak kernel's chain counts (a run's best sample, measured before and after the kernel rows). */
  fmaGflops: number;
  /** The same in f16, null without shader-f16. */
  fmaF16Gflops: number | null;
  /** Streaming bandwidth ceiling: the best copy/triad rate over the buffer sizes tried. */
  bandwidthGBps: number;
  /** Each stream kernel and size (bytes moved per run), so cache and memory rates can be told apart. */
  bandwidthBySize: { kind: string; bytes: number; gbps: number }[];
  /** An empty kernel's round trip (encode, submit, wait), wall clock, median. */
  dispatchMs: number;
  /** The same kernel's GPU time from timestamps (null without timestamp-query). */
  dispatchGpuMs: number | null;
  uploadGBps: number;
  readbackGBps: number;
}

export interface BenchKernelRow {
  /** The model's kernel group: matmul, attention, layernorm, gelu, softmax, conv2d, groupnorm, maxpool, embed, elementwise, stem. */
  group: string;
  /** The group and the model's use of it, e.g. "matmul mlp0": with variant and shape the key --compare matches rows by. */
  kernel: string;
  variant: string;
  shape: number[];
  /** Median time of one run. */
  ms: number;
  p95Ms: number;
  samples: number;
  /** Flop one run performs (multiply and add count 1 each; transcendental functions and comparisons none); null where there is no arithmetic to speak of. */
  flop: number | null;
  /** The least bytes one run must read and write (every input read once, every output written once). */
  bytes: number;
  gflops: number | null;
  gbps: number;
  /** flop / bytes. */
  intensity: number | null;
  /** gflops / min(peak, intensity × bandwidth); for rows without flop gbps / bandwidth. */
  roofline: number;
  bound: 'compute' | 'memory';
  /** First run's wall time minus a warm run's, when this row created its pipeline; null when an earlier row already had. */
  compileMs: number | null;
  /** The variant the launcher uses for this shape (after autotune where there is one). */
  chosen: boolean;
}

export interface BenchModelRow {
  width: number;
  height: number;
  /** Patch tokens (CLS not counted). */
  tokens: number;
  /** First image of this size on a fresh device with the model loaded (the first size also pays pipeline creation). */
  coldMs: number;
  /** Median of the following images. */
  warmMs: number;
  imagesPerSecond: number;
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  createdAt: string;
  package: { name: string; version: string };
  runtime: BenchRuntimeInfo;
  adapter: BenchAdapterInfo;
  options: { width: number; height: number; tokens: number; quick: boolean; groups: string[] };
  timing: {
    /** 'timestamp-query' (GPU time of each dispatch) or 'wall-clock' (around submit and wait, batched). */
    method: 'timestamp-query' | 'wall-clock';
    compile: string;
    /** What is known about the driver's own shader cache at the start (warm caches hide compile time). */
    driverCache: string;
  };
  peak: BenchPeak;
  kernels: BenchKernelRow[];
  /**
   * One line per group: its best variant (the highest roofline fraction over the group's rows,
   * each weighted by its time), that fraction, what bounds the variant's slowest row, and the
   * variant(s) the launchers chose.
   */
  verdicts: { group: string; variant: string; roofline: number; bound: 'compute' | 'memory'; chosen: string[]; text: string }[];
  model: BenchModelRow[];
  notes: string[];
}
