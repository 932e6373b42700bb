// `musiq bench` without its platform: the same code runs from the CLI (Node, Bun, Deno) and from
// web/bench.html. The caller opens runtimes and says what it knows about the platform.
import type { Runtime } from '../runtime/runtime.ts';
import type { AdapterDescription } from '../runtime/device.ts';
import { tuneMatmul, tuneMatmulTile } from '../kernels/matmul.ts';
import { DEFAULT_LONGER_SIDES, PATCH, resizedSize } from '../musiq/preprocess.ts';
import type { MusiqDims } from '../musiq/checkpoint.ts';
import { CONFIGS } from './random-checkpoint.ts';
import { adapterInfo } from './environment.ts';
import { measurePeak, remeasureFmaPeak } from './peak.ts';
import { GROUPS, disposeStemWeights, kernelCases, randomStemWeights } from './cases.ts';
import { benchModel } from './model.ts';
import { kernelRow, verdicts } from './report.ts';
import { pipelineCounter, sampleInTurns, summarize, warm, type TimedCase } from './timing.ts';
import { BENCH_SCHEMA, type BenchKernelRow, type BenchReport, type BenchRuntimeInfo } from './schema.ts';
import type { StemWeights } from '../kernels/stem.ts';

export interface BenchOptions {
  width: number;
  height: number;
  quick: boolean;
  /** Kernel groups to run (default all); [] runs none. */
  groups?: readonly string[];
  /** Image sizes for the end-to-end rows; [] skips them. */
  modelSizes: [number, number][];
}

export interface BenchPlatform {
  /** A new runtime on the default adapter; `profile` asks for timestamp queries. */
  open(profile: boolean): Promise<Runtime>;
  runtime: BenchRuntimeInfo;
  packageVersion: string;
  /** What can be known of the driver's own shader cache, given the adapter. */
  driverCache: (adapter: AdapterDescription) => string;
  log: (line: string) => void;
}

/** Patch tokens of a width×height image (spec §2: the two resized scales and the native one). */
export function tokensFor(width: number, height: number): number {
  const sizes = [...DEFAULT_LONGER_SIDES.map((L) => resizedSize(height, width, L)), [height, width]];
  return sizes.reduce((a, [h, w]) => a + Math.ceil(h / PATCH) * Math.ceil(w / PATCH), 0);
}

export async function runBench(platform: BenchPlatform, o: BenchOptions): Promise<BenchReport> {
  const { log } = platform;
  const dims: MusiqDims = { ...CONFIGS.full, numClasses: 1 };
  const tokens = tokensFor(o.width, o.height);
  const groups = o.groups ?? GROUPS;
  const notes: string[] = [];
  const rt = await platform.open(true);
  let report: Omit<BenchReport, 'model'>;
  try {
    const counter = pipelineCounter(rt);
    const method = rt.profiling ? 'timestamp-query' : 'wall-clock';
    if (!rt.profiling) {
      notes.push('this adapter has no timestamp queries: times are wall clock around submit and wait, each sample batching enough runs to last ≥ 20 ms');
      log('bench: no timestamp queries on this adapter; timing with the wall clock');
    }
    const peak = await measurePeak(rt, { quick: o.quick, log, counter });
    log(`bench: peak ${peak.fmaGflops.toFixed(1)} GFLOP/s f32, bandwidth ${peak.bandwidthGBps.toFixed(1)} GB/s`);

    let stemWeights: StemWeights | undefined;
    const cases = kernelCases(rt, dims, tokens, async () => (stemWeights ??= await randomStemWeights(rt, dims.stemWidth))).filter((c) => groups.includes(c.group));
    if (o.quick && cases.some((c) => c.variants.includes('naive'))) notes.push('--quick leaves out the naive matmul (the textbook baseline), which takes seconds per run on a CPU adapter');
    const pending: (Omit<BenchKernelRow, 'chosen' | 'ms' | 'p95Ms' | 'samples' | 'gflops' | 'gbps' | 'intensity' | 'roofline' | 'bound'> & { times: number[]; chosenOf: () => string })[] = [];
    for (const [i, c] of cases.entries()) {
      const t0 = performance.now();
      const variants = o.quick ? c.variants.filter((v) => v !== 'naive') : c.variants;
      const run = await c.setup();
      try {
        const timed: (TimedCase & { variant: string })[] = variants.map((variant) => ({ variant, encode: () => run.run(variant), times: [], compileMs: null }));
        const warmMs: number[] = [];
        for (const t of timed) {
          const w0 = performance.now();
          await warm(rt, t, counter, 20);
          warmMs.push(performance.now() - w0);
        }
        // Runs of seconds (a naive kernel on a CPU adapter) get few samples; short ones many.
        const slow = Math.max(...warmMs) / 2 > 500;
        await sampleInTurns(rt, timed, o.quick ? { min: slow ? 1 : 3, max: 5, minMs: 100 } : { min: 3, max: slow ? 3 : 30, minMs: 500 });
        for (const t of timed) pending.push({ group: c.group, kernel: c.kernel, variant: t.variant, shape: c.shape, flop: c.flop, bytes: c.bytes, compileMs: t.compileMs, times: t.times, chosenOf: c.chosen });
      } finally {
        run.dispose();
      }
      log(`bench: [${i + 1}/${cases.length}] ${c.kernel} ${c.shape.join('×')}: ${variants.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (stemWeights) disposeStemWeights(stemWeights);
    // Autotune after the compile times were taken (tuning creates the matmul pipelines too).
    if (cases.some((c) => c.group === 'matmul')) {
      const choice = await tuneMatmul(rt, { retune: true });
      log(`bench: matmul autotune chose ${choice}`);
      // The rows mark the first tier's choice; a long run's tier measures its tile (matmul.ts).
      if (await tuneMatmulTile(rt)) log('bench: a long run (promoted tier) takes the 64-row subgroup tile here, measured faster');
    }
    if (pending.length) await remeasureFmaPeak(rt, peak, { quick: o.quick, log, counter });
    const kernels = pending.map(({ times, chosenOf, ...base }) => {
      const { ms, p95Ms, samples } = summarize(times);
      return kernelRow({ ...base, chosen: chosenOf() === base.variant }, { ms, p95Ms, samples }, peak);
    });
    report = {
      schema: BENCH_SCHEMA,
      createdAt: new Date().toISOString(),
      package: { name: 'musiq-webgpu', version: platform.packageVersion },
      runtime: platform.runtime,
      adapter: adapterInfo(rt),
      options: { width: o.width, height: o.height, tokens, quick: o.quick, groups: [...groups] },
      timing: {
        method,
        compile: "the first run's wall time minus a warm run's, for the run that created the pipeline (in this process, on a new device); the driver's own shader cache may still hold it",
        driverCache: platform.driverCache(rt.adapter),
      },
      peak,
      kernels,
      verdicts: verdicts(kernels),
      notes,
    };
  } finally {
    rt.destroy();
  }

  let model: BenchReport['model'] = [];
  if (o.modelSizes.length) {
    const mrt = await platform.open(false);
    try {
      const sizes = o.modelSizes;
      model = (await benchModel(mrt, { sizes, warmImages: o.quick ? 1 : 3, log })).rows;
      notes.push("model: the first size's cold time includes creating every pipeline on a fresh device; the kernel section ran first, so the driver's shader cache may be warm");
    } finally {
      mrt.destroy();
    }
  }
  return { ...report, model };
}
