// How the benchmark times a launcher: GPU timestamps of its dispatches where the runtime profiles,
// else the wall clock around submit-and-wait with enough runs batched per sample to be well above
// the round trip. Variants of one kernel are sampled in turns (a, b, c, a, b, c, …), so a busy
// neighbour on a shared machine slows them alike and their ratios hold.
import type { Runtime } from '../runtime/runtime.ts';

export interface Samples {
  ms: number;
  p95Ms: number;
  best: number;
  samples: number;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function summarize(xs: readonly number[]): Samples {
  return { ms: percentile(xs, 0.5), p95Ms: percentile(xs, 0.95), best: Math.min(...xs), samples: xs.length };
}

/** Counts the pipelines a device creates, so a first run can tell whether it compiled anything. */
export function pipelineCounter(rt: Runtime): { readonly created: number } {
  const device = rt.device as GPUDevice & { createComputePipeline: GPUDevice['createComputePipeline'] };
  const counter = { created: 0 };
  const create = device.createComputePipeline.bind(device);
  // Only this benchmark's own device is wrapped; scoring never sees it.
  device.createComputePipeline = (descriptor: GPUComputePipelineDescriptor) => {
    counter.created++;
    return create(descriptor);
  };
  return counter;
}

export interface TimedCase {
  encode: () => void;
  /** Runs per wall-clock sample (ignored with timestamps); set by warm(). */
  batch?: number;
  times: number[];
  compileMs: number | null;
}

/**
 * The first run (creating pipelines, which the runtime caches) and one warm run, both wall clock:
 * compileMs is their difference when the first run created a pipeline. With timestamps the warm
 * run is the first sample; without, sizes the wall-clock batch so one sample lasts at least
 * `minSampleMs`.
 */
export async function warm(rt: Runtime, c: TimedCase, counter: { readonly created: number }, minSampleMs: number): Promise<void> {
  const before = counter.created;
  let t0 = performance.now();
  c.encode();
  await rt.sync();
  const first = performance.now() - t0;
  t0 = performance.now();
  c.encode();
  await rt.sync();
  const again = performance.now() - t0;
  if (rt.profiling) {
    // Both runs encode the same dispatches: the second half of the timings is the warm run, a
    // sample like any other (a run of seconds then needs one sample fewer).
    const t = await rt.timings();
    c.times.push(t.slice(t.length / 2).reduce((a, x) => a + x.ms, 0));
  }
  c.compileMs = counter.created > before ? Math.max(0, first - again) : null;
  c.batch = rt.profiling ? 1 : Math.max(1, Math.min(1000, Math.ceil(minSampleMs / Math.max(again, 0.001))));
}

/** One sample of a case: ms per run. */
export async function sample(rt: Runtime, c: TimedCase): Promise<number> {
  if (rt.profiling) {
    c.encode();
    await rt.sync();
    return (await rt.timings()).reduce((a, t) => a + t.ms, 0);
  }
  const n = c.batch ?? 1;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) c.encode();
  await rt.sync();
  return (performance.now() - t0) / n;
}

/**
 * Samples the cases in turns until each has `minReps` samples and `minMs` of total time, or
 * `maxReps` samples. Every case must be warm().
 */
export async function sampleInTurns(rt: Runtime, cases: TimedCase[], reps: { min: number; max: number; minMs: number }): Promise<void> {
  const t0 = performance.now();
  for (let r = 0; r < reps.max; r++) {
    for (const c of cases) c.times.push(await sample(rt, c));
    if (r + 1 >= reps.min && performance.now() - t0 >= reps.minMs) break;
  }
}
