// Converted checkpoints (`musiq convert`) score every shared fixture image with both tiny
// checkpoints close to the independent implementation's scores, within the tolerance of their
// precision, whether their kernels stay f16 on the GPU (adapters with shader-f16) or are widened
// to f32 (adapters without, as SwiftShader; forced here with `weights: 'f32'`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpu } from '../gpu.ts';
import { createScorer } from '../../src/index.node.ts';
import { convertCheckpoint } from '../../tools/convert.ts';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'musiq-convert-score-'));

// Tolerances, relative to max(1, |score|) (the quality head's score is a raw linear output, so
// its error scales with its magnitude; below 1 an absolute bound is the meaningful one):
// - f16: each kernel value moves by at most 2^-11 ≈ 4.9e-4 of itself, by independent roundings,
//   which largely cancel in the sums; measured here: worst 2.9e-4 (koniq), 8.3e-5 (ava), under
//   the bar of 1e-3 with a 3x margin.
// - int8: each kernel value moves by up to half a step, max|w_col|/254 (0.4% of the column's
//   largest value), through 2 layers and the stem. Measured here: worst 1.15e-2 (koniq,
//   checker_1024x768), 3.1e-3 (ava). A tighter bound than the 3e-2 would leave under 2x
//   margin over a measurement on random weights, so the bound stays; a wrong scale axis
//   or a sign error moves scores by O(1) and still fails it.
const TOL = { f16: 1e-3, int8: 3e-2 } as const;
/** An f16 file's values are the same f16 numbers whether the GPU keeps them as f16 or f32; only fma/order could differ. */
const SAME_VALUES_TOL = 1e-5;

interface Expected {
  results: { image: string; score: number }[];
}

for (const name of ['tiny_koniq_s0', 'tiny_ava_s0']) {
  test(`${name}: f16 and int8 files score every fixture image within their tolerance of the independent scores`, async () => {
    const rt = await gpu();
    const src = `${fixtures}checkpoints/${name}.npz`;
    const files = { f16: join(dir, `${name}_f16.npz`), int8: join(dir, `${name}_int8.npz`) };
    await convertCheckpoint(src, files.f16, 'f16');
    await convertCheckpoint(src, files.int8, 'int8');
    const expected = JSON.parse(readFileSync(`${fixtures}expected/${name}.json`, 'utf8')) as Expected;
    const f16 = await createScorer({ engine: 'gpu', checkpoint: files.f16, runtime: rt });
    const f16Wide = await createScorer({ engine: 'gpu', checkpoint: files.f16, runtime: rt, weights: 'f32' });
    const int8 = await createScorer({ engine: 'gpu', checkpoint: files.int8, runtime: rt });
    const int8Wide = await createScorer({ engine: 'gpu', checkpoint: files.int8, runtime: rt, weights: 'f32' });
    // The CPU engine reads converted files as f32 (int8 dequantized): the very values of the GPU's f32 path.
    const f16Cpu = await createScorer({ engine: 'cpu', checkpoint: files.f16, runtime: rt });
    const int8Cpu = await createScorer({ engine: 'cpu', checkpoint: files.int8, runtime: rt });
    assert.equal(int8Cpu.precision, { file: 'int8', gpu: 'f32' });
    const half = rt.features.has('shader-f16') ? 'f16' : 'f32';
    assert.equal(f16.precision, { file: 'f16', gpu: half });
    assert.equal(f16Wide.precision, { file: 'f16', gpu: 'f32' });
    assert.equal(int8.precision, { file: 'int8', gpu: half });
    assert.equal(int8Wide.precision, { file: 'int8', gpu: 'f32' });
    const worst = { f16: 0, int8: 0, int8Wide: 0, same: 0 };
    try {
      for (const { image, score } of expected.results) {
        const bytes = readFileSync(fixtures + image);
        const a = (await f16.score(bytes, image)).score;
        const b = (await f16Wide.score(bytes, image)).score;
        const c = (await int8.score(bytes, image)).score;
        const d = (await int8Wide.score(bytes, image)).score;
        const scale = Math.max(1, Math.abs(score));
        worst.f16 = Math.max(worst.f16, Math.abs(a - score) / scale);
        worst.int8 = Math.max(worst.int8, Math.abs(c - score) / scale);
        worst.int8Wide = Math.max(worst.int8Wide, Math.abs(d - score) / scale);
        assert.ok(Math.abs(d - score) <= TOL.int8 * scale, `${image} int8 widened to f32: ${d} vs ${score}`);
        worst.same = Math.max(worst.same, Math.abs(a - b) / scale);
        assert.ok(Math.abs(a - score) <= TOL.f16 * scale, `${image} f16: ${a} vs ${score}`);
        assert.ok(Math.abs(c - score) <= TOL.int8 * scale, `${image} int8: ${c} vs ${score}`);
        assert.ok(Math.abs(a - b) <= SAME_VALUES_TOL * scale, `${image} f16 file, f16 vs f32 on the GPU: ${a} vs ${b}`);
        const e = (await f16Cpu.score(bytes, image)).score;
        const f = (await int8Cpu.score(bytes, image)).score;
        assert.ok(Math.abs(e - b) <= SAME_VALUES_TOL * scale, `${image} f16 file, CPU engine vs GPU f32: ${e} vs ${b}`);
        assert.ok(Math.abs(f - d) <= SAME_VALUES_TOL * scale, `${image} int8 file, CPU engine vs GPU f32: ${f} vs ${d}`);
      }
    } finally {
      f16.dispose();
      f16Wide.dispose();
      int8.dispose();
      int8Wide.dispose();
      f16Cpu.dispose();
      int8Cpu.dispose();
    }
    console.log(`\n  ${name}: worst |score - expected| / max(1, |score|): f16 ${worst.f16.toExponential(2)}, int8 ${worst.int8.toExponential(2)} (GPU ${half}), ${worst.int8Wide.toExponential(2)} (GPU f32); f16 file, GPU f16 vs f32: ${worst.same.toExponential(2)}`);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
