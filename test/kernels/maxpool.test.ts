import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { maxPool } from '../../src/kernels/maxpool.ts';
import { maxPoolRef } from '../../src/kernels/maxpool.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

type Case = [p: number, h: number, w: number, c: number, k: number, stride: number];
const cases: Case[] = [
  [1, 1, 1, 1, 3, 2], // a window of one real tap
  [2, 16, 16, 64, 3, 2], // the stem: 16→8, padding 0 before / 1 after
  [3, 7, 5, 13, 3, 2], // odd sizes: padding 1 before / 1 after, one channel per invocation
  [2, 7, 6, 8, 3, 2], // 4 channels per invocation, odd height
  [1, 9, 4, 3, 2, 3], // stride larger than the window
];

for (const [p, h, w, c, k, stride] of cases) {
  test(`maxPool [${p},${h},${w},${c}] ${k}x${k}/${stride}`, async () => {
    const rt = await gpu();
    // Negative values too: a zero-padded pool would wrongly return 0 where every real tap is < 0.
    const x = randomArray(p * h * w * c, p + h + w + c).map((v) => v - 0.5);
    const tx = rt.upload(x, [p, h, w, c]);
    const ty = maxPool(rt, tx, { window: k, stride });
    const ref = maxPoolRef(x, [p, h, w, c], k, stride);
    assert.equal([...ty.shape], ref.shape);
    // A max of f32 values is one of them: exact.
    assert.equal([...(await rt.read(ty))], [...ref.out]);
    tx.dispose();
    ty.dispose();
  });
}

test('maxPool rejects bad input with a MusiqError', async () => {
  const rt = await gpu();
  assert.throws(() => maxPool(rt, rt.zeros([4, 4])), (e: Error) => e instanceof MusiqError && /\[P, H, W, C\]/.test(e.message));
  assert.throws(() => maxPool(rt, rt.zeros([1, 4, 4, 1]), { stride: 0 }), (e: Error) => e instanceof MusiqError);
  assert.throws(() => maxPool(rt, rt.zeros([1, 4, 4, 1]), { out: rt.zeros([3]) }), (e: Error) => e instanceof MusiqError);
  const same = rt.zeros([1, 4, 4, 4]);
  assert.throws(() => maxPool(rt, same, { stride: 1, out: same }), (e: Error) => e instanceof MusiqError && /alias/.test(e.message));
});

test.run();
