// The roofline's two limits measured on this adapter (never taken from a spec sheet): multiply-add
// throughput from peak_fma.wgsl and streaming bandwidth from bandwidth.wgsl, plus the fixed cost
// of a dispatch and the upload/readback rates.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { PEAK_CHAINS, emptyKernel, peakFma, peakFmaFlop, stream, streamBytes, type StreamKind } from '../kernels/roofline.ts';
import { sampleInTurns, summarize, warm, type TimedCase } from './timing.ts';
import type { BenchPeak } from './schema.ts';

export interface PeakOptions {
  quick: boolean;
  log: (line: string) => void;
  counter: { readonly created: number };
}

/** Best rate over the chain counts: the peak is what the adapter can do, so its best sample counts. */
async function fmaPeak(rt: Runtime, half: boolean, o: PeakOptions): Promise<number> {
  // Long chains per invocation: on a CPU adapter each invocation's start and its stores cost as
  // much as a few hundred rounds (lavapipe's scalar store per lane and component).
  const iters = 1024;
  const target = 15; // ms per dispatch: well above timer resolution and dispatch cost
  const maxWg = Math.floor(Math.min(rt.limits.maxStorageBufferBindingSize, 2 ** 27) / (64 * 16));
  let best = 0;
  const cases: (TimedCase & { flop: number })[] = [];
  const outs: Tensor[] = [];
  for (const chains of PEAK_CHAINS) {
    // Grow the grid until one dispatch lasts `target` ms: enough invocations to fill any adapter.
    let workgroups = 64;
    for (;;) {
      const out = rt.empty([workgroups * 64 * 4]);
      const t0 = performance.now();
      peakFma(rt, out, { workgroups, iters, chains, half });
      await rt.sync();
      const ms = performance.now() - t0;
      out.dispose();
      if (rt.profiling) await rt.timings();
      if (ms >= target || workgroups * 2 > maxWg) break;
      workgroups = Math.min(maxWg, workgroups * Math.max(2, Math.min(16, Math.ceil(target / Math.max(ms, 0.01)))));
    }
    const out = rt.empty([workgroups * 64 * 4]);
    outs.push(out);
    cases.push({ encode: () => peakFma(rt, out, { workgroups, iters, chains, half }), times: [], compileMs: null, flop: peakFmaFlop({ workgroups, iters, chains }) });
  }
  for (const c of cases) await warm(rt, c, o.counter, 20);
  await sampleInTurns(rt, cases, { min: o.quick ? 3 : 5, max: o.quick ? 3 : 9, minMs: 0 });
  for (const c of cases) best = Math.max(best, c.flop / summarize(c.times).best / 1e6);
  for (const t of outs) t.dispose();
  return best;
}

async function bandwidth(rt: Runtime, o: PeakOptions): Promise<BenchPeak['bandwidthBySize']> {
  // From cache-sized to well past any last-level cache; the largest fits WebGPU's default 128 MiB binding.
  const mib = o.quick ? [1, 16, 64] : [0.25, 1, 4, 16, 64];
  const rows: BenchPeak['bandwidthBySize'] = [];
  for (const size of mib) {
    const n = Math.min((size * 2 ** 20) / 4, rt.limits.maxStorageBufferBindingSize / 4);
    const [a, b, c] = [rt.zeros([n]), rt.zeros([n]), rt.zeros([n])];
    const cases = (['copy', 'triad'] as StreamKind[]).map((kind) => ({ kind, encode: () => stream(rt, kind, a, b, c), times: [] as number[], compileMs: null }));
    for (const k of cases) await warm(rt, k, o.counter, 20);
    await sampleInTurns(rt, cases, { min: 3, max: o.quick ? 5 : 15, minMs: o.quick ? 50 : 200 });
    for (const k of cases) rows.push({ kind: k.kind, bytes: streamBytes(k.kind, n), gbps: streamBytes(k.kind, n) / summarize(k.times).best / 1e6 });
    for (const t of [a, b, c]) t.dispose();
  }
  return rows;
}

/**
 * Measures the multiply-add peak again and keeps the better of the two in `peak`; the benchmark
 * calls it after the kernel rows. On a shared machine one measurement can come out low, and a
 * row timed at another moment then exceeds it by more than checkReport() allows (a CI run on
 * SwiftShader in Chromium, with 4 ms dispatches and the earlier one-round-a-loop peak kernel:
 * attention 4.04 GFLOP/s against a peak of 2.27).
 */
export async function remeasureFmaPeak(rt: Runtime, peak: BenchPeak, o: PeakOptions): Promise<void> {
  o.log('roofline: peak multiply-add again, after the kernels…');
  peak.fmaGflops = Math.max(peak.fmaGflops, await fmaPeak(rt, false, o));
  if (peak.fmaF16Gflops !== null) peak.fmaF16Gflops = Math.max(peak.fmaF16Gflops, await fmaPeak(rt, true, o));
}

export async function measurePeak(rt: Runtime, o: PeakOptions): Promise<BenchPeak> {
  o.log('roofline: peak multiply-add (f32)…');
  const fmaGflops = await fmaPeak(rt, false, o);
  let fmaF16Gflops: number | null = null;
  if (rt.features.has('shader-f16')) {
    o.log('roofline: peak multiply-add (f16)…');
    fmaF16Gflops = await fmaPeak(rt, true, o);
  }
  o.log('roofline: streaming bandwidth…');
  const bandwidthBySize = await bandwidth(rt, o);

  // The round trip of an empty dispatch: encode, submit, wait; wall clock whatever the timer.
  const flag = rt.zeros([1], 'u32');
  const wall: number[] = [];
  const gpu: number[] = [];
  emptyKernel(rt, flag);
  await rt.sync();
  if (rt.profiling) await rt.timings();
  for (let i = 0; i < (o.quick ? 10 : 30); i++) {
    const t0 = performance.now();
    emptyKernel(rt, flag);
    await rt.sync();
    wall.push(performance.now() - t0);
    if (rt.profiling) gpu.push((await rt.timings()).reduce((s, t) => s + t.ms, 0));
  }
  flag.dispose();

  // Upload (writeBuffer + wait) and readback (copy + map) of 16 MiB (4 in quick runs).
  const n = ((o.quick ? 4 : 16) * 2 ** 20) / 4;
  const data = new Float32Array(n).fill(1);
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t0 = performance.now();
    const t = rt.upload(data);
    await rt.sync();
    up.push(performance.now() - t0);
    t0 = performance.now();
    await rt.read(t);
    down.push(performance.now() - t0);
    t.dispose();
  }
  return {
    fmaGflops,
    fmaF16Gflops,
    bandwidthGBps: Math.max(...bandwidthBySize.map((r) => r.gbps)),
    bandwidthBySize,
    dispatchMs: summarize(wall).ms,
    dispatchGpuMs: gpu.length ? summarize(gpu).ms : null,
    uploadGBps: (4 * n) / summarize(up).ms / 1e6,
    readbackGBps: (4 * n) / summarize(down).ms / 1e6,
  };
}
