// What every benchmark measures and prints. A timing is never a test assertion; benchmarks
// print ratios measured in one run on one adapter.
import type { Runtime } from '../src/runtime/runtime.ts';

export interface Measurement {
  kernel: string;
  variant: string;
  /** [M, K, N] for matmul, the op's own dims otherwise. */
  shape: number[];
  ms: number;
  gflops: number | null;
  chosen: boolean;
  adapter: string;
}

/** A benchmark module bench/kernels/<name>.ts exports `bench: KernelBench`. */
export type KernelBench = (rt: Runtime, opts: { quick: boolean }) => Promise<Measurement[]>;

/**
 * Median GPU time of `encode` (which must only encode dispatches), after one warm-up.
 * Uses timestamp queries when the runtime profiles, wall time around sync otherwise.
 */
export async function timeGpu(rt: Runtime, encode: () => void, reps = 5): Promise<number> {
  encode();
  await rt.sync();
  if (rt.profiling) await rt.timings();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    encode();
    await rt.sync();
    const wall = performance.now() - t0;
    times.push(rt.profiling ? (await rt.timings()).reduce((a, t) => a + t.ms, 0) : wall);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function gflops(flop: number, ms: number): number {
  return flop / ms / 1e6;
}
