import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { softmaxRows } from '../../src/kernels/softmax.ts';
import { softmaxRowsRef } from '../../src/kernels/softmax.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

const EPS = 2 ** -24;

/**
 * exp(x − max) is ≤ (3 + 2|x − max|) ulp off (WGSL), the subtraction ≤ 1 ulp of |x − max|
 * (→ that many ε relative after exp), the serial sum ≤ C·ε, the reciprocal and product 2ε:
 * relative error of each p ≤ 2·(4 + 3·range) ε + (C + 2)ε; doubled for slack.
 */
async function check(R: number, C: number, scale: number, offset = 0): Promise<void> {
  const rt = await gpu();
  const x = randomArray(R * C, R * 31 + C, scale).map((v) => v + offset);
  const tx = rt.upload(x, [R, C]);
  const ty = softmaxRows(rt, tx);
  const got = await rt.read(ty);
  const want = softmaxRowsRef(x, C);
  for (let r = 0; r < R; r++) {
    const row = x.subarray(r * C, (r + 1) * C);
    const range = Math.max(...row) - Math.min(...row);
    const rel = 2 * (2 * (4 + 3 * range) + C + 2) * EPS;
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      if (!(Math.abs(got[i] - want[i]) <= rel * want[i] + 1e-38)) assert.unreachable(`R=${R} C=${C} [${r},${c}]: ${got[i]} vs ${want[i]}`);
    }
  }
  tx.dispose();
  ty.dispose();
}

for (const [R, C] of [[1, 1], [1, 10], [3, 7], [65, 10], [200, 97]] as const) {
  test(`softmaxRows ${R}×${C} vs float64`, () => check(R, C, 5));
}

test('softmaxRows is stable for logits near ±80 (exp would overflow without the max shift)', () => check(5, 10, 20, 80));

test('softmaxRows rejects a non-f32 or empty last dim', async () => {
  const rt = await gpu();
  assert.throws(() => softmaxRows(rt, rt.upload(new Uint32Array(4), [2, 2], 'u32')), (e: Error) => e instanceof MusiqError && /must be f32/.test(e.message));
  assert.throws(() => softmaxRows(rt, rt.empty([3, 0])), (e: Error) => e instanceof MusiqError && /C ≥ 1/.test(e.message));
});

test.run();
