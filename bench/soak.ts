// GPU memory over a long run: many mixed-size images in a row, then the pool's state.
// `node --import tsx bench/soak.ts [--tiny] [--images 400] [--sizes 320x240,...] [--one 4000x3000]`
// Prints, every 50 images and at the end: allocated, the largest live working set (live peak of an
// image minus what was live before it: the weights), the ratio allocated / (weights + 1.5·set)
// that the pool must keep ≤ 1, and the process RSS. --one scores a single image and reports its
// peak GPU memory (e.g. a 12 MP photo with the full-size checkpoint).
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { createScorer } from '../src/index.node.ts';
import type { RgbImage } from '../src/image/rgb-image.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { mulberry32 } from '../tools/random.ts';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const tiny = args.includes('--tiny');
const count = Number(opt('--images') ?? 400);
const sizes = (opt('--sizes') ?? '64x64,320x240,512x384,800x600,1024x768,600x800,1280x720,333x777').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const one = opt('--one')?.split('x').map(Number) as [number, number] | undefined;
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function image(width: number, height: number, seed: number): RgbImage {
  const r = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + ((r() * 64) | 0)) & 255;
  return { width, height, data };
}

const rt = await createNodeRuntime();
const scorer = await createScorer({ checkpoint: writeSyntheticCheckpoint({ config: tiny ? 'tiny' : 'full', numClasses: 1, seed: 0 }), runtime: rt });
const weights = rt.memory.live;
console.log(`adapter: ${rt.adapterName}; ${tiny ? 'tiny' : 'full-size'} checkpoint, weights ${MiB(weights)}`);

if (one) {
  const t0 = performance.now();
  rt.resetPeak();
  const r = await scorer.score(image(one[0], one[1], 1), `${one[0]}x${one[1]}`);
  const m = rt.memory;
  console.log(`${one[0]}×${one[1]}: ${r.tokens} tokens, ${((performance.now() - t0) / 1000).toFixed(1)} s, peak live ${MiB(m.peak)} (working set ${MiB(m.peak - weights)}), peak allocated ${MiB(m.allocatedPeak)}, allocated after ${MiB(m.allocated)}`);
} else {
  const pick = mulberry32(42);
  let maxSet = 0;
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    const [w, h] = sizes[Math.floor(pick() * sizes.length)];
    const before = rt.memory.live;
    rt.resetPeak();
    await scorer.score(image(w, h, i), `${w}x${h}`);
    maxSet = Math.max(maxSet, rt.memory.peak - before);
    if (i % 50 === 0 || i === count) {
      const m = rt.memory;
      const bound = weights + 1.5 * maxSet;
      console.log(
        `${String(i).padStart(5)} images  allocated ${MiB(m.allocated)}  live peak ${MiB(weights + maxSet)}  ratio allocated/(weights + 1.5·set) ${(m.allocated / bound).toFixed(2)}  allocated/live-peak ${(m.allocated / (weights + maxSet)).toFixed(2)}  RSS ${MiB(process.memoryUsage().rss)}  ${((performance.now() - t0) / i).toFixed(0)} ms/image`,
      );
    }
  }
}
scorer.dispose();
rt.destroy();
