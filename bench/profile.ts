// Where the time goes: GPU timestamps of every dispatch for one image, summed per kernel.
// `node --import tsx bench/profile.ts [WxH]` (full-size synthetic checkpoint).
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { createScorer } from '../src/index.node.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';

const [w, h] = (process.argv[2] ?? '1024x768').split('x').map(Number);
const rt = await createNodeRuntime({ profile: true });
const scorer = await createScorer({ checkpoint: writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 }), runtime: rt });
const img = { width: w, height: h, data: new Uint8Array(w * h * 3).map((_, i) => (i * 2654435761) >>> 24) };
await scorer.score(img);
await rt.timings();
const r = await scorer.score(img);
const byKernel = new Map<string, { ms: number; n: number }>();
for (const t of await rt.timings()) {
  const name = t.label.split(' ')[0];
  const e = byKernel.get(name) ?? { ms: 0, n: 0 };
  e.ms += t.ms;
  e.n++;
  byKernel.set(name, e);
}
const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
console.log(`${w}x${h}, ${r.tokens} tokens on ${rt.adapterName}: wall ${r.timings.total.toFixed(0)} ms, GPU sum ${total.toFixed(0)} ms`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${name.padEnd(28)} ${e.ms.toFixed(1).padStart(9)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  (${e.n} dispatches)`);
}
scorer.dispose();
rt.destroy();
