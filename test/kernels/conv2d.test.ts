import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { gpu, subgroupSkip } from '../gpu.ts';
import { CONV2D_SUBGROUP_TILES, CONV2D_VARIANTS, conv2d, conv2dVariant } from '../../src/kernels/conv2d.ts';
import { conv2dRef } from '../../src/kernels/conv2d.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

const U = 2 ** -24; // f32 unit roundoff

type Case = [p: number, h: number, w: number, cin: number, k: number, stride: number, cout: number];
const cases: Case[] = [
  [1, 1, 1, 1, 1, 1, 4], // smallest everything
  [1, 5, 7, 1, 1, 1, 8], // 35 output rows: not a multiple of the 4-row block
  [3, 7, 5, 3, 7, 2, 12], // primes, kernel wider than the image, 12 channels = a half column block
  [2, 13, 11, 12, 3, 1, 20], // vec4 input path with primes
  [2, 6, 9, 8, 2, 2, 4], // even kernel: all the SAME padding goes after
  [2, 32, 32, 3, 7, 2, 64], // conv_root
  [2, 32, 32, 4, 7, 2, 64], // conv_root on RGB0 patches (stem.ts, rootChannels)
  [3, 7, 5, 4, 7, 2, 12], // the same primes on 4 channels: gemm4's taps and channels in one loop
  [1, 5, 7, 4, 3, 1, 4], // 35 output rows, one vec4 column
  [3, 8, 8, 64, 3, 1, 64], // block1/unit1/conv2
  [5, 8, 8, 64, 1, 1, 256], // conv_proj / conv3
  [1, 8, 8, 32, 1, 1, 128], // tiny checkpoint's conv3
];

for (const variant of CONV2D_VARIANTS)
  for (const [p, h, w, cin, k, stride, cout] of cases) {
    if (variant === 'gemm4' && cin % 4 !== 0) continue; // refused: tested below
    test(`conv2d ${variant} [${p},${h},${w},${cin}] ⊛ ${k}x${k}x${cin}x${cout} stride ${stride}`, async () => {
      const rt = await gpu();
      const lanes = variant === 'subgroup' ? 8 : 4;
      const why = variant === 'blocked' ? undefined : subgroupSkip(rt, lanes);
      if (why) return skip(lanes === 8 ? 'subgroups-8' : 'subgroups-4', why);
      const seed = p * 1000 + h * 100 + cin * 10 + k;
      const x = randomArray(p * h * w * cin, seed), kernel = randomArray(k * k * cin * cout, seed + 1);
      const tx = rt.upload(x, [p, h, w, cin]), tk = rt.upload(kernel, [k, k, cin, cout]);
      const ty = conv2d(rt, tx, tk, { stride, variant });
      const ref = conv2dRef(x, [p, h, w, cin], kernel, [k, k, cin, cout], stride);
      assert.equal([...ty.shape], ref.shape);
      const got = await rt.read(ty);
      // Each output is a sum of K = k·k·cin products of exact f32 inputs; any summation order
      // is within γ_K·Σ|x||w| (γ_K = K·u/(1 − K·u), Higham Thm 3.1) of the exact value.
      // A wrong tap or channel changes an output by O(|x||w|) ≫ this bound.
      const bound = conv2dRef(x.map(Math.abs), [p, h, w, cin], kernel.map(Math.abs), [k, k, cin, cout], stride).out;
      const K = k * k * cin, gamma = (K * U) / (1 - K * U);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.out[i]) / (gamma * bound[i] + 1e-30));
      assert.ok(worst <= 1, `error ${worst.toFixed(2)}× the bound`);
      for (const t of [tx, tk, ty]) t.dispose();
    });
  }

test('conv2d picks a subgroup kernel only on CPU adapters, the 8-lane one where subgroups have 8 lanes', async () => {
  const rt = await gpu();
  const cpu = rt.adapter.architecture === 'software' || rt.adapter.isFallback;
  const min = rt.features.has('subgroups') ? ((rt.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo?.subgroupMinSize ?? 0) : 0;
  const four = rt.adapter.architecture === 'swiftshader' ? 'gemm4' : 'subgroup4';
  assert.is(conv2dVariant(rt), !cpu ? 'blocked' : min >= 8 ? 'subgroup' : min >= 4 ? four : 'blocked');
  // gemm4 reads whole vec4s of input channels: RGB input falls back to subgroup4.
  if (four === 'gemm4' && min === 4) assert.is(conv2dVariant(rt, 3), 'subgroup4');
});

test('conv2d writes into a given output and reads an explicit input shape', async () => {
  const rt = await gpu();
  const x = randomArray(2 * 32 * 32 * 3, 7), kernel = randomArray(7 * 7 * 3 * 8, 8);
  const tx = rt.upload(x, [2, 32 * 32 * 3]), tk = rt.upload(kernel, [7, 7, 3, 8]);
  const out = rt.zeros([2, 16 * 16 * 8]);
  assert.is(conv2d(rt, tx, tk, { stride: 2, inputShape: [2, 32, 32, 3], out }), out);
  const got = await rt.read(out);
  const ref = conv2dRef(x, [2, 32, 32, 3], kernel, [7, 7, 3, 8], 2).out;
  assert.ok(got.every((v, i) => Math.abs(v - ref[i]) < 1e-4));
  for (const t of [tx, tk, out]) t.dispose();
});

for (const variant of ['subgroup', 'subgroup4', 'gemm4'] as const)
  test(`conv2d ${variant} over more than 65535 row tiles uses a 2-D grid`, async () => {
    const rt = await gpu();
    const lanes = variant === 'subgroup' ? 8 : 4;
    const why = subgroupSkip(rt, lanes);
    if (why) return skip(lanes === 8 ? 'subgroups-8' : 'subgroups-4', why);
    // 65536 row tiles need > 65535·tile output pixels (tile: the kernel's pixels per workgroup).
    // A 1×1 conv with one input channel keeps it small: y[m, o] = x[m]·w[o]. gemm4 takes whole
    // vec4s of channels: there the other three are zeros (their weights 7, which must not show).
    const tile = CONV2D_SUBGROUP_TILES[variant].pixels;
    const rows = 65536 * tile + 48, cout = 4, cin = variant === 'gemm4' ? 4 : 1;
    const value = (m: number) => (m % 1009) - 500;
    const x = new Float32Array(rows * cin).map((_, i) => (i % cin === 0 ? value(i / cin) : 0));
    const kernel = new Float32Array(cin * cout).fill(7);
    kernel.set([1, -2, 0.5, 3]);
    const tx = rt.upload(x, [1, 1, rows, cin]), tk = rt.upload(kernel, [1, 1, cin, cout]);
    const ty = conv2d(rt, tx, tk, { variant });
    const got = await rt.read(ty);
    // Products of small integers and exact binary fractions: exact in f32.
    for (const m of [0, tile - 1, tile, 65535 * tile - 1, 65535 * tile, 65535 * tile + 17, rows - 1])
      for (let o = 0; o < cout; o++) assert.is(got[m * cout + o], value(m) * kernel[o], `pixel ${m} channel ${o}`);
    for (const t of [tx, tk, ty]) t.dispose();
  });

test('conv2d rejects bad shapes with a MusiqError', async () => {
  const rt = await gpu();
  const x = rt.zeros([1, 4, 4, 3]), x4 = rt.zeros([1, 4, 4, 4]);
  const bad: [call: () => unknown, why: RegExp][] = [
    [() => conv2d(rt, x, rt.zeros([3, 3, 3, 6])), /multiple of 4/],
    [() => conv2d(rt, x, rt.zeros([3, 3, 4, 8])), /input channels/],
    [() => conv2d(rt, x, rt.zeros([3, 3, 3, 8]), { stride: 0 }), /stride/],
    [() => conv2d(rt, rt.zeros([16, 3]), rt.zeros([3, 3, 3, 8])), /not \[P, H, W, C\]/],
    [() => conv2d(rt, x, rt.zeros([3, 3, 3, 8]), { out: rt.zeros([5]) }), /output tensor/],
    [() => conv2d(rt, x4, rt.zeros([3, 3, 4, 4]), { out: x4 }), /alias/],
  ];
  for (const [f, why] of bad) assert.throws(f, (e: Error) => e instanceof MusiqError && why.test(e.message));
  // gemm4 on RGB input: refused for its channels where it can run, for its subgroups elsewhere.
  const why = subgroupSkip(rt, 4) === undefined ? /gemm4 kernel needs a multiple of 4 input channels, got 3/ : /gemm4 kernel cannot run here/;
  assert.throws(() => conv2d(rt, x, rt.zeros([3, 3, 3, 8]), { variant: 'gemm4' }), (e: Error) => e instanceof MusiqError && why.test(e.message));
});

test.run();
