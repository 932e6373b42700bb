// What `weights: 'f16'` costs in score and buys in speed and memory, in one run on one adapter.
// `npm run bench:f16 [-- --sizes 512x384,1024x768] [-- --reps 3]`
// - Error: every shared fixture image with both tiny checkpoints, f32 and f16, against the
//   independent implementation's scores; then the full-size synthetic checkpoint (real dims,
//   random weights: 14 layers of rounding, the closest we have here to a real checkpoint),
//   f16 against f32.
// - Speed: f32 and f16 scorers alternate on the same image (median of reps), full size.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { createScorer, type Scorer } from '../src/index.node.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { syntheticImage } from '../src/bench/synthetic-image.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = opt('--sizes', '512x384,1024x768').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const reps = Number(opt('--reps', '3'));
const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rt = await createNodeRuntime();
console.log(`adapter: ${rt.adapterName}`);
if (!rt.features.has('shader-f16')) {
  console.log('bench:f16: this adapter has no shader-f16; nothing to compare');
  process.exit(0);
}

console.log('score error on the shared fixtures (tiny checkpoints, against the independent implementation):');
for (const name of ['tiny_koniq_s0', 'tiny_ava_s0']) {
  const expected = JSON.parse(readFileSync(`${fixtures}expected/${name}.json`, 'utf8')) as { results: { image: string; score: number }[] };
  const ckpt = new Uint8Array(readFileSync(`${fixtures}checkpoints/${name}.npz`));
  const [f32, f16] = [await createScorer({ checkpoint: ckpt, runtime: rt }), await createScorer({ checkpoint: ckpt, runtime: rt, weights: 'f16' })];
  let worst32 = 0, worst16 = 0, worstShift = 0;
  for (const { image, score } of expected.results) {
    const bytes = new Uint8Array(readFileSync(fixtures + image));
    const [a, b] = [(await f32.score(bytes, image)).score, (await f16.score(bytes, image)).score];
    worst32 = Math.max(worst32, Math.abs(a - score));
    worst16 = Math.max(worst16, Math.abs(b - score));
    worstShift = Math.max(worstShift, Math.abs(b - a));
  }
  console.log(`  ${name}: ${expected.results.length} images, max |score - expected|: f32 ${worst32.toExponential(2)}, f16 ${worst16.toExponential(2)}; max |f16 - f32| ${worstShift.toExponential(2)}`);
  f32.dispose();
  f16.dispose();
}

const full = writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 });
const before = rt.memory.live;
const f32 = await createScorer({ checkpoint: full, runtime: rt });
const f32Bytes = rt.memory.live - before;
const f16 = await createScorer({ checkpoint: full, runtime: rt, weights: 'f16' });
const f16Bytes = rt.memory.live - before - f32Bytes;
console.log(`full-size synthetic checkpoint: weights on the GPU ${(f32Bytes / 2 ** 20).toFixed(1)} MiB (f32), ${(f16Bytes / 2 ** 20).toFixed(1)} MiB (f16)`);
for (const [w, h] of sizes) {
  const img = syntheticImage(w, h);
  const ms: Record<'f32' | 'f16', number[]> = { f32: [], f16: [] };
  const scores: Record<'f32' | 'f16', number> = { f32: NaN, f16: NaN };
  const pairs: ['f32' | 'f16', Scorer][] = [['f32', f32], ['f16', f16]];
  for (const [, s] of pairs) await s.score(img); // warm-up: pipelines compiled, buffers pooled
  for (let i = 0; i < reps; i++) {
    for (const [k, s] of i % 2 ? pairs.slice().reverse() : pairs) {
      const r = await s.score(img);
      ms[k].push(r.timings.total - r.timings.preprocess);
      scores[k] = r.score;
    }
  }
  const [a, b] = [median(ms.f32) / 1000, median(ms.f16) / 1000];
  console.log(`  ${w}x${h}: model f32 ${a.toFixed(3)} s, f16 ${b.toFixed(3)} s (median of ${reps}, alternating): f16 takes ${(b / a).toFixed(2)}x; score f32 ${scores.f32.toFixed(6)}, f16 ${scores.f16.toFixed(6)}, |diff| ${Math.abs(scores.f16 - scores.f32).toExponential(2)}`);
}
f32.dispose();
f16.dispose();
rt.destroy();
