import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { axpby } from '../../src/kernels/elementwise.ts';
import { axpbyRef } from '../../src/kernels/elementwise.ref.ts';
import { maxAbsDiff, randomArray } from '../../tools/random.ts';

// One f32 multiply-add per term: |error| <= ~2 ulp of the result's magnitude (≤ 4 here) ≈ 1e-6.
const TOL = 2e-6;

for (const n of [1, 3, 255, 256, 257, 1000, 65536 * 3 + 17]) {
  test(`axpby n=${n}`, async () => {
    const rt = await gpu();
    const a = randomArray(n, n), b = randomArray(n, n + 1);
    const ta = rt.upload(a), tb = rt.upload(b);
    const y = axpby(rt, ta, tb, 1.5, -0.25);
    const got = await rt.read(y);
    assert.ok(maxAbsDiff(got, axpbyRef(a, b, 1.5, -0.25)) <= TOL);
    for (const t of [ta, tb, y]) t.dispose();
  });
}

test('axpby over more than 65535 workgroups uses a 2-D grid', async () => {
  const rt = await gpu();
  const n = 256 * 65535 + 300; // just past one grid row
  const a = new Float32Array(n).fill(1), b = new Float32Array(n).map((_, i) => i % 7);
  const y = axpby(rt, rt.upload(a), rt.upload(b), 2, 1);
  const got = await rt.read(y);
  assert.is(got[n - 1], 2 + ((n - 1) % 7));
  assert.is(got[0], 2);
});

test.run();
