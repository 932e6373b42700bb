import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { padRgb0 } from '../../src/kernels/pad_rgb0.ts';
import { padRgb0Ref } from '../../src/kernels/pad_rgb0.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

// A copy: every value must come through bit for bit, and every fourth channel must be exactly 0
// (the output's pooled buffer may hold anything before: NaN here).
for (const pixels of [1, 255, 256, 257, 1000, 918 * 1024 + 5]) {
  test(`padRgb0 ${pixels} px`, async () => {
    const rt = await gpu();
    rt.upload(new Float32Array(pixels * 4).fill(Number.NaN)).dispose();
    const x = randomArray(pixels * 3, pixels);
    const tx = rt.upload(x);
    const y = padRgb0(rt, tx, pixels);
    assert.equal([...y.shape], [pixels, 4]);
    const got = await rt.read(y);
    const want = padRgb0Ref(x, pixels);
    let bad = -1;
    for (let i = 0; i < want.length && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
    assert.is(bad, -1, `value ${bad}: got ${got[bad]}, want ${want[bad]}`);
    for (const t of [tx, y]) t.dispose();
  });
}

test('padRgb0 rejects a size that is not 3 values a pixel', async () => {
  const rt = await gpu();
  const x = rt.upload(new Float32Array(10));
  assert.throws(() => padRgb0(rt, x, 3), (e: Error) => e instanceof MusiqError && /not 3 RGB f32 pixels/.test(e.message));
  x.dispose();
});

test.run();
