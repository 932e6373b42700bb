// End to end: the full-size model (random weights of the real shapes, made in memory) loaded
// through the public scorer on a fresh device, then images of each size scored: the first one
// cold, the rest warm.
import type { Runtime } from '../runtime/runtime.ts';
import { createScorerFrom } from '../musiq/scorer.ts';
import { writeNpz } from '../npz/writer.ts';
import { bytesSource } from '../npz/source.ts';
import { syntheticMembers } from './random-checkpoint.ts';
import { syntheticImage } from './synthetic-image.ts';
import { summarize } from './timing.ts';
import type { BenchModelRow } from './schema.ts';

export interface ModelBenchOptions {
  sizes: [number, number][];
  /** Warm images per size after the cold one. */
  warmImages: number;
  log: (line: string) => void;
}

export async function benchModel(rt: Runtime, o: ModelBenchOptions): Promise<{ rows: BenchModelRow[]; loadMs: number }> {
  const t0 = performance.now();
  // ~110 MB of stored .npz: the checkpoint reader and loader run exactly as for a real file.
  const npz = writeNpz(syntheticMembers({ config: 'full', numClasses: 1, seed: 0 }));
  const scorer = await createScorerFrom(rt, bytesSource('random-weights.npz', npz));
  const loadMs = performance.now() - t0;
  o.log(`model: full-size random weights made and loaded in ${(loadMs / 1000).toFixed(1)} s`);
  const rows: BenchModelRow[] = [];
  try {
    for (const [width, height] of o.sizes) {
      const image = syntheticImage(width, height);
      const cold = await scorer.score(image);
      o.log(`model ${width}×${height}: cold ${(cold.timings.total / 1000).toFixed(2)} s (${cold.tokens} tokens)`);
      const warm: number[] = [];
      for (let i = 0; i < o.warmImages; i++) warm.push((await scorer.score(image)).timings.total);
      const warmMs = summarize(warm).ms;
      o.log(`model ${width}×${height}: warm ${(warmMs / 1000).toFixed(2)} s (median of ${warm.length})`);
      rows.push({ width, height, tokens: cold.tokens, coldMs: cold.timings.total, warmMs, imagesPerSecond: 1000 / warmMs });
    }
  } finally {
    scorer.dispose();
  }
  return { rows, loadMs };
}
