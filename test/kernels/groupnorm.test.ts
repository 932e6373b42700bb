import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { groupNorm } from '../../src/kernels/groupnorm.ts';
import { groupNormRef } from '../../src/kernels/groupnorm.ref.ts';
import { maxPoolRef } from '../../src/kernels/maxpool.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

const U = 2 ** -24;

/**
 * Per-element error bound of the kernel against float64. The kernel works on d = x − shift
 * (shift = the group's first value; exact for nearby values). Its mean and variance are f32 sums
 * of m = s·ch/groups terms, off by at most ~m·u relative to max|d| resp. Σd², so each normalised
 * value z = (x − mean)·rstd is off by ≲ c·m·u·zmax (zmax = the group's largest |z|, which bounds
 * max|d|·rstd), scaled by |scale|; then a few roundings of the result (|y| + |bias| + |r|). c = 4
 * covers both sums.
 */
function tolerance(x: Float32Array, shape: [number, number, number], scale: Float32Array, bias: Float32Array, ref: Float64Array, eps: number, groups: number, r?: Float32Array): Float64Array {
  const [p, s, ch] = shape, n = p * s * ch;
  const z = groupNormRef(x, shape, new Float32Array(ch).fill(1), new Float32Array(ch), { eps, groups });
  const cpg = ch / groups, m = s * cpg;
  const zmax = new Float64Array(p * groups);
  for (let i = 0; i < n; i++) {
    const gi = Math.floor(i / (s * ch)) * groups + Math.floor((i % ch) / cpg);
    zmax[gi] = Math.max(zmax[gi], Math.abs(z[i]));
  }
  const tol = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const cI = i % ch, gi = Math.floor(i / (s * ch)) * groups + Math.floor(cI / cpg);
    tol[i] = 4 * (m + 4) * U * (zmax[gi] * Math.abs(scale[cI]) + Math.abs(ref[i]) + Math.abs(bias[cI]) + (r ? Math.abs(r[i]) : 0));
  }
  return tol;
}

interface Case {
  name: string;
  shape: [patches: number, spatial: number, channels: number];
  groups?: number;
  eps: number;
  data: (n: number, seed: number) => Float32Array;
  relu?: boolean;
  residual?: boolean;
}

const uniform = (n: number, seed: number) => randomArray(n, seed);
const cases: Case[] = [
  { name: 'one position, one channel per group', shape: [1, 1, 32], eps: 1e-6, data: uniform },
  { name: 'gn_root W=64 (2 ch/group) + ReLU', shape: [3, 256, 64], eps: 1e-6, data: uniform, relu: true },
  { name: 'gn_root W=32 (1 ch/group)', shape: [2, 256, 32], eps: 1e-6, data: uniform },
  { name: 'gn3 4W=256 (8 ch/group) + residual + ReLU', shape: [2, 64, 256], eps: 1e-4, data: uniform, residual: true },
  { name: 'primes: 3 groups of 3 channels, 7 positions', shape: [5, 7, 9], groups: 3, eps: 1e-4, data: uniform },
  // Channels a multiple of 4 but 3 per group: the per-group (scalar) kernel.
  { name: '4 groups of 3 channels + ReLU', shape: [2, 5, 12], groups: 4, eps: 1e-4, data: uniform, relu: true },
  // One group of 8: a unit of two vec4s.
  { name: 'one group of 8 channels', shape: [3, 5, 8], groups: 1, eps: 1e-6, data: uniform },
  // Zero-variance groups: the output must be exactly the bias (eps keeps rsqrt finite).
  { name: 'constant groups', shape: [2, 64, 64], eps: 1e-4, data: (n) => new Float32Array(n).fill(3.25) },
  // Spread ~1e-3: var ≈ eps, so eps visibly shapes the output.
  { name: 'variance comparable to eps', shape: [2, 64, 64], eps: 1e-6, data: (n, s) => randomArray(n, s, 1e-3) },
  // A large common offset: E[x²] − E[x]² would cancel to noise; the centred form stays accurate.
  { name: 'large offset 1000 ± 1', shape: [2, 64, 128], eps: 1e-4, data: (n, s) => randomArray(n, s).map((v) => 1000 + v) },
  { name: 'large values ±1e4', shape: [2, 16, 64], eps: 1e-6, data: (n, s) => randomArray(n, s, 1e4) },
];

for (const c of cases) {
  test(`groupNorm ${c.name} [${c.shape.join(', ')}]`, async () => {
    const rt = await gpu();
    const [p, s, ch] = c.shape;
    const n = p * s * ch, seed = n + ch;
    const x = c.data(n, seed);
    const scale = randomArray(ch, seed + 1, 2), bias = randomArray(ch, seed + 2);
    const r = c.residual ? randomArray(n, seed + 3) : undefined;
    const tx = rt.upload(x, [p, s, ch]), ts = rt.upload(scale), tb = rt.upload(bias), tr = r && rt.upload(r, [p, s, ch]);
    const ty = groupNorm(rt, tx, ts, tb, { eps: c.eps, groups: c.groups, relu: c.relu, residual: tr });
    const got = await rt.read(ty);
    const ref = groupNormRef(x, c.shape, scale, bias, { eps: c.eps, groups: c.groups, relu: c.relu, residual: r });
    const tol = tolerance(x, c.shape, scale, bias, ref, c.eps, c.groups ?? 32, r);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (tol[i] + 1e-30));
    assert.ok(worst <= 1, `error ${worst.toFixed(2)}× the bound`);
    if (c.name === 'constant groups') assert.ok(got.every((v, i) => v === bias[i % ch]), 'constant groups give exactly the bias');
    for (const t of [tx, ts, tb, ty, tr]) t?.dispose();
  });
}

// GroupNorm (+ReLU) then a SAME max-pool, fused (groupnorm_vec4's main_pool) or, where the channels
// take the per-group kernel, the two passes: against maxPoolRef(groupNormRef(x)). The pool picks
// one of its taps, so an output is off by at most the largest bound of its window's taps.
type PoolCase = [name: string, shape: [p: number, h: number, w: number, c: number], groups: number, k: number, stride: number, relu: boolean];
const poolCases: PoolCase[] = [
  ['the stem root: 16×16×64, 2 channels per group, 3×3/2 + ReLU', [3, 16, 16, 64], 32, 3, 2, true],
  ['1×1 image, 1 channel per group', [2, 1, 1, 32], 32, 3, 2, true],
  ['odd sizes, padding 0 above and 1 left, one group of 8 channels, no ReLU', [3, 4, 7, 8], 1, 3, 2, false],
  ['even window: all the padding after', [2, 6, 9, 64], 32, 2, 2, true],
  ['window wider than the image, stride 1', [1, 2, 3, 32], 32, 5, 1, false],
  ['3 channels per group: the per-group kernel, then maxPool', [2, 5, 4, 12], 4, 3, 2, true],
];

for (const [name, [p, h, w, ch], groups, k, stride, relu] of poolCases) {
  test(`groupNorm + max-pool ${name} [${p}, ${h}, ${w}, ${ch}] ${k}×${k}/${stride}`, async () => {
    const rt = await gpu();
    const n = p * h * w * ch, seed = 31 * n + ch;
    const x = randomArray(n, seed), scale = randomArray(ch, seed + 1, 2), bias = randomArray(ch, seed + 2);
    const tx = rt.upload(x, [p, h, w, ch]), ts = rt.upload(scale), tb = rt.upload(bias);
    const ty = groupNorm(rt, tx, ts, tb, { eps: 1e-6, groups, relu, pool: { window: k, stride } });
    const norm = groupNormRef(x, [p, h * w, ch], scale, bias, { eps: 1e-6, groups, relu });
    const want = maxPoolRef(norm, [p, h, w, ch], k, stride);
    assert.equal([...ty.shape], want.shape);
    const tolFull = tolerance(x, [p, h * w, ch], scale, bias, norm, 1e-6, groups);
    const tol = maxPoolRef(tolFull, [p, h, w, ch], k, stride).out; // the largest bound in each window
    const got = await rt.read(ty);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.out[i]) / (tol[i] + 1e-30));
    assert.ok(worst <= 1, `error ${worst.toFixed(2)}× the bound`);
    for (const t of [tx, ts, tb, ty]) t.dispose();
  });
}

test('groupNorm rejects bad shapes with a MusiqError', async () => {
  const rt = await gpu();
  const x = rt.zeros([2, 4, 64]), s64 = rt.zeros([64]);
  const bad: [call: () => unknown, why: RegExp][] = [
    [() => groupNorm(rt, rt.zeros([2, 4, 48]), rt.zeros([48]), rt.zeros([48]), { eps: 1e-6 }), /groups/],
    [() => groupNorm(rt, x, rt.zeros([32]), s64, { eps: 1e-6 }), /scale\/bias/],
    [() => groupNorm(rt, x, s64, s64, { eps: 1e-6, residual: rt.zeros([3]) }), /residual/],
    [() => groupNorm(rt, x, s64, s64, { eps: 1e-6, out: x }), /alias/],
    [() => groupNorm(rt, x, s64, s64, { eps: 0 }), /eps/],
    [() => groupNorm(rt, x, s64, s64, { eps: 1e-6, pool: { window: 3, stride: 2 } }), /\[P, H, W, C\]/],
    [() => groupNorm(rt, rt.zeros([1, 4, 4, 64]), s64, s64, { eps: 1e-6, pool: { window: 3, stride: 2 }, residual: rt.zeros([1, 4, 4, 64]) }), /pool and residual/],
    [() => groupNorm(rt, rt.zeros([1, 4, 4, 64]), s64, s64, { eps: 1e-6, pool: { window: 0, stride: 2 } }), /pool window/],
    [() => groupNorm(rt, rt.zeros([1, 4, 4, 64]), s64, s64, { eps: 1e-6, pool: { window: 3, stride: 2 }, out: rt.zeros([1, 4, 4, 64]) }), /output tensor holds/],
  ];
  for (const [f, why] of bad) assert.throws(f, (e: Error) => e instanceof MusiqError && why.test(e.message));
});

test.run();
