// Seconds per image, per stage, with a full-size synthetic checkpoint (real dims, random weights:
// the cost is the same as a real checkpoint's). `npm run bench:model [-- --json] [-- --sizes 512x384,1024x768] [-- --profile] [-- --vs-torch [--rounds 3]] [-- --vs-spin]`
// --vs-torch: PyTorch runs the same forward pass (bench/torch_musiq.py, same token count, as many
// threads as this machine has cores) before and after our timed runs, and the ratio of the
// medians is printed: same run, same cores. MUSIQ_TORCH_PYTHON names the interpreter (python3).
// --rounds N (with --vs-torch): N such rounds (PyTorch, ours, PyTorch) one after another, each
// with its own ratio, and the median of the N ratios: a load that comes and goes moves single
// rounds, less their median. Each round also prints the ratio to PyTorch's fastest run: on the
// 2-core CI host PyTorch is bimodal per process (2.5-2.9 s in some, 4.1-5.2 s in others, also
// with no other process running and pinned to either core), and the slow processes flatter a
// ratio of medians; the fastest run is the PyTorch a user would get on a good day.
// --torch-device cuda (with --vs-torch): PyTorch on the NVIDIA GPU instead of the CPU (float32,
// TF32 off), for a machine where our engine runs on that GPU too.
// --vs-spin: also times runs with Dawn's own event polling (a setImmediate loop that keeps a core
// busy while the GPU works; src/runtime/gpu.node.ts paces it), interleaved with the paced runs,
// and prints the ratio of the medians.
// --engine gpu|cpu|auto: the scorer's engine (default gpu: this adapter's kernels; cpu: WebAssembly
// on one core, src/musiq/model.wasm.ts), so "--engine cpu --vs-torch" sets it against PyTorch.
// --profile: after the timed runs, one more run per size with GPU timestamps, printed per kernel
// group (ms, GFLOP/s). Profiling adds a timestamp pair per dispatch, so with it the s/image
// numbers are slower than without: a little on lavapipe, 2× on an H200 (55-61 ms against 25-34).
import { createNodeRuntime, dawnPolling } from '../src/runtime/gpu.node.ts';
import { createScorer } from '../src/index.node.ts';
import { promote } from '../src/kernels/tiers.ts';
import { tuneMatmulTile } from '../src/kernels/matmul.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { syntheticImage } from '../src/bench/synthetic-image.ts';
import { median } from '../src/bench/timing.ts';
import { formatGroups, groupTimings } from './profile-groups.ts';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const profile = args.includes('--profile');
const sizesArg = args[args.indexOf('--sizes') + 1];
const sizes = (args.includes('--sizes') ? sizesArg : '512x384,1024x768').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const reps = Number(args[args.indexOf('--reps') + 1]) || 2;
const vsTorch = args.includes('--vs-torch');
const rounds = vsTorch ? Number(args[args.indexOf('--rounds') + 1]) || 1 : 1;
const vsSpin = args.includes('--vs-spin');
const torchDevice = args.includes('--torch-device') ? args[args.indexOf('--torch-device') + 1] : 'cpu';
const python = process.env.MUSIQ_TORCH_PYTHON ?? 'python3';
const engine = (args.includes('--engine') ? args[args.indexOf('--engine') + 1] : 'gpu') as 'gpu' | 'cpu' | 'auto';
if (!['gpu', 'cpu', 'auto'].includes(engine)) {
  console.error(`bench:model: --engine takes gpu, cpu or auto, got ${engine}`);
  process.exit(2);
}
const log = (s: string) => (json ? console.error(s) : console.log(s));

/** Seconds as a reader wants them: milliseconds below one second (a real GPU's times). */
const fmt = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

let torchDeviceName = `CPU, ${availableParallelism()} threads`;

/** Seconds per forward pass of PyTorch on `tokens` patches, one per rep (after a warm-up). */
function torchSeconds(tokens: number): number[] {
  const script = fileURLToPath(new URL('./torch_musiq.py', import.meta.url));
  try {
    const out = execFileSync(python, [script, '--tokens', String(tokens), '--reps', String(reps), '--threads', String(availableParallelism()), '--device', torchDevice], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number[]; device?: string };
    if (torchDevice !== 'cpu') torchDeviceName = result.device ?? torchDevice;
    return result.seconds;
  } catch (e) {
    const why = (e as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? String(e);
    console.error(`bench:model --vs-torch: ${python} ${script} failed: ${why}`);
    console.error('  PyTorch is needed (Debian: apt install python3-torch libopenblas0-pthread; without OpenBLAS torch falls back to a reference BLAS ~20x slower); MUSIQ_TORCH_PYTHON picks the interpreter');
    process.exit(2);
  }
}

const rt = await createNodeRuntime({ profile });
// Steady state: the kernels a long run is promoted to (src/kernels/tiers.ts), compiled in the
// warm-up, with the matmul tile that promotion measures on this CPU (tuneMatmulTile).
promote(rt);
const tile64 = await tuneMatmulTile(rt);
if (profile && !rt.profiling) log('bench:model: this adapter has no timestamp queries; --profile prints nothing');
log(`adapter: ${rt.adapterName}${tile64 ? ' (matmul: the 64-row subgroup tile, measured faster here)' : ''}`);
const t0 = performance.now();
const ckpt = writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 });
const scorer = await createScorer({ checkpoint: ckpt, runtime: rt, engine });
log(`engine: ${scorer.engine}${scorer.engine === 'cpu' ? ' (WebAssembly SIMD, one thread)' : ''}`);
log(`full-size checkpoint written and uploaded in ${((performance.now() - t0) / 1000).toFixed(2)} s; weights on GPU: ${(rt.memory.live / 2 ** 20).toFixed(1)} MiB`);

const rows = [];
for (const [w, h] of sizes) {
  const img = syntheticImage(w, h);
  const warm = await scorer.score(img); // warm-up: pipelines compiled, buffers pooled
  const ratios: number[] = [];
  const fastestRatios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const torchBefore = vsTorch ? torchSeconds(warm.tokens) : [];
    const runs = [];
    const spinRuns = [];
    const paced = { ...dawnPolling };
    for (let i = 0; i < reps; i++) {
      runs.push(await scorer.score(img));
      if (!vsSpin) continue;
      dawnPolling.spinMs = Infinity; // every tick immediate: Dawn's own loop
      spinRuns.push(await scorer.score(img));
      Object.assign(dawnPolling, paced);
    }
    const torch = vsTorch ? [...torchBefore, ...torchSeconds(warm.tokens)] : [];
    const best = runs.reduce((a, b) => (b.timings.total < a.timings.total ? b : a));
    const t = best.timings;
    const medianSeconds = median(runs.map((r) => r.timings.total)) / 1000;
    const row: Record<string, unknown> = { size: `${w}x${h}`, tokens: best.tokens, seconds: t.total / 1000, medianSeconds, decode: t.decode / 1000, preprocess: t.preprocess / 1000, stem: t.stem / 1000, encoder: t.encoder / 1000, peakGpuMiB: rt.memory.peak / 2 ** 20, allocatedGpuMiB: rt.memory.allocated / 2 ** 20, adapter: rt.adapterName, engine: scorer.engine };
    if (round === rounds) rows.push(row);
    log(`${w}x${h}: ${best.tokens} tokens, ${fmt(t.total / 1000)}/image best, ${fmt(medianSeconds)} median of ${reps} (decode ${t.decode.toFixed(0)} ms [pixels given], preprocess ${t.preprocess.toFixed(0)} ms, stem+embedding ${t.stem.toFixed(0)} ms, encoder+head ${t.encoder.toFixed(0)} ms); peak GPU ${(rt.memory.peak / 2 ** 20).toFixed(0)} MiB live, ${(rt.memory.allocated / 2 ** 20).toFixed(0)} MiB allocated incl. pool`);
    if (vsTorch) {
      // Ours excludes preprocessing (PyTorch is given patches), so compare model time to model time.
      const ours = median(runs.map((r) => r.timings.total - r.timings.preprocess - r.timings.decode)) / 1000;
      const theirs = median(torch);
      const fastest = Math.min(...torch);
      Object.assign(row, { modelSeconds: ours, torchSeconds: theirs, ratio: ours / theirs, torchFastestSeconds: fastest, ratioToFastest: ours / fastest });
      log(`  ${rounds > 1 ? `round ${round}: ` : ''}vs PyTorch (${torchDeviceName}, runs before and after ours: ${torch.map(fmt).join(', ')}): model ${fmt(ours)} against ${fmt(theirs)} median = ${(ours / theirs).toFixed(2)}x PyTorch's time; ${(ours / fastest).toFixed(2)}x its fastest run`);
      ratios.push(ours / theirs);
      fastestRatios.push(ours / fastest);
    }
    if (round < rounds) continue;
    if (rounds > 1) {
      Object.assign(row, { roundRatios: ratios, ratio: median(ratios), roundRatiosToFastest: fastestRatios, ratioToFastest: median(fastestRatios) });
      log(`  vs PyTorch over ${rounds} rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}x PyTorch's time`);
      log(`  vs PyTorch's fastest run per round: ${fastestRatios.map((r) => r.toFixed(2)).join(', ')}; median ${median(fastestRatios).toFixed(2)}x`);
    }
    if (vsSpin) {
      const spin = median(spinRuns.map((r) => r.timings.total)) / 1000;
      Object.assign(row, { spinSeconds: spin });
      log(`  with Dawn's own busy polling (interleaved runs): ${spinRuns.map((r) => (r.timings.total / 1000).toFixed(2)).join(', ')} s, median ${spin.toFixed(3)} s = ${(spin / medianSeconds).toFixed(2)}x the paced time`);
    }
    if (rt.profiling) {
      await rt.timings(); // drop the timed runs' timestamps
      await scorer.score(img);
      const groups = groupTimings(await rt.timings());
      log(`  GPU time per kernel group (one more run, ${rt.adapterName}):`);
      for (const line of formatGroups(groups)) log(line);
    }
  }
}
if (json) console.log(JSON.stringify(rows));
scorer.dispose();
rt.destroy();
