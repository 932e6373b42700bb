import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { checkTokenIds, embedTokens } from '../../src/kernels/embed.ts';
import { embedTokensRef } from '../../src/kernels/embed.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { mulberry32, randomArray } from '../../tools/random.ts';

async function run(N: number, D: number, S: number, spatial: Uint32Array, scaleIds: Uint32Array) {
  const rt = await gpu();
  // Large position/scale tables, as in the fixtures, so the f32 rounding order is visible.
  const patch = randomArray(N * D, N + D, 1), pos = randomArray(100 * D, 7, 300), scale = randomArray(S * D, 8, 50), cls = randomArray(D, 9, 5);
  const ts = [rt.upload(patch, [N, D]), rt.upload(spatial, [N], 'u32'), rt.upload(scaleIds, [N], 'u32'), rt.upload(pos, [100, D]), rt.upload(scale, [S, D]), rt.upload(cls)] as const;
  const y = embedTokens(rt, ...ts);
  assert.equal(y.shape, [N + 1, D]);
  const got = (await rt.read(y)) as Float32Array;
  for (const t of [...ts, y]) t.dispose();
  return { got, want: embedTokensRef(patch, N, D, spatial, scaleIds, pos, scale, cls), patch, pos, scale };
}

for (const [N, D] of [[1, 1], [7, 64], [343, 384], [1000, 13]] as const) {
  test(`embedTokens N=${N} D=${D} vs float64, and bit-exact in the original's sum order`, async () => {
    const r = mulberry32(N);
    const spatial = Uint32Array.from({ length: N }, () => Math.floor(r() * 100));
    const scaleIds = Uint32Array.from({ length: N }, () => Math.floor(r() * 3));
    const { got, want, patch, pos, scale } = await run(N, D, 3, spatial, scaleIds);
    for (let i = 0; i < got.length; i++) {
      // Two f32 additions: |err| ≤ ε·(|x + pos| + |result|) ≤ 2ε·(|x| + |pos| + |scale|) < 2ε·400.
      assert.ok(Math.abs(got[i] - want[i]) <= 2 ** -23 * 400, `element ${i}: ${got[i]} vs ${want[i]}`);
    }
    // f32 addition is correctly rounded, so (x + pos) + scale has exactly one right answer.
    for (let t = 0; t < N; t++) {
      for (let c = 0; c < D; c++) {
        const f32 = Math.fround(Math.fround(patch[t * D + c] + pos[spatial[t] * D + c]) + scale[scaleIds[t] * D + c]);
        if (got[(t + 1) * D + c] !== f32) assert.unreachable(`token ${t} col ${c}: ${got[(t + 1) * D + c]} is not (x + pos) + scale = ${f32} in f32`);
      }
    }
  });
}

test('embedTokens with no patch tokens is the CLS row alone', async () => {
  const { got, want } = await run(0, 8, 1, new Uint32Array(0), new Uint32Array(0));
  assert.equal(Array.from(got), Array.from(want, Math.fround));
});

test('an id past its table gives a NaN row on the GPU and a MusiqError from checkTokenIds', async () => {
  const spatial = Uint32Array.from([3, 100, 5]), scaleIds = Uint32Array.from([0, 1, 3]);
  const { got } = await run(3, 4, 3, spatial, scaleIds);
  assert.ok(got.slice(4, 8).every(Number.isFinite));
  assert.ok(got.slice(8).every(Number.isNaN));
  assert.throws(() => checkTokenIds(spatial, scaleIds, 100, 3), (e: Error) => e instanceof MusiqError && /token 1 has spatial position 100/.test(e.message));
  assert.throws(() => checkTokenIds([1], [3], 100, 3), (e: Error) => e instanceof MusiqError && /scale id 3/.test(e.message));
  checkTokenIds([99, 0], [2, 0], 100, 3);
});

test('embedTokens rejects mismatched shapes with a MusiqError', async () => {
  const rt = await gpu();
  const f = (n: number, shape = [n]) => rt.upload(new Float32Array(n), shape);
  const u = (n: number) => rt.upload(new Uint32Array(n), [n], 'u32');
  assert.throws(() => embedTokens(rt, f(12, [3, 4]), u(3), u(3), f(500, [100, 5]), f(15, [3, 5]), f(5)), (e: Error) => e instanceof MusiqError && /\[N, 5\]/.test(e.message));
  assert.throws(() => embedTokens(rt, f(12, [3, 4]), u(2), u(3), f(400, [100, 4]), f(12, [3, 4]), f(4)), (e: Error) => e instanceof MusiqError && /spatial must be u32 \[3\]/.test(e.message));
  assert.throws(() => embedTokens(rt, f(12, [3, 4]), u(3), u(3), f(398), f(12, [3, 4]), f(4)), (e: Error) => e instanceof MusiqError && /tables must be f32/.test(e.message));
});

test.run();
