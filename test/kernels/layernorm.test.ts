import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { layernorm, layernormVariant, layernormVariantsFor, type LayernormVariant } from '../../src/kernels/layernorm.ts';
import { layernormRef } from '../../src/kernels/layernorm.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

const EPS = 2 ** -24;

/**
 * Per-element bound for the f32 kernels: each sum is ⌈D/WG⌉ serial adds per invocation then
 * a log2(WG)-level tree (tree: WG = 8 or 64), or D/8 serial adds in each of 8 register lanes
 * then 3 more (rows), at most ⌈D/8⌉ + 6 roundings deep, so
 * |δmean| ≤ (⌈D/8⌉ + 8)·ε·max|x| and the variance's relative error is
 * ≤ (⌈D/8⌉ + 8)·ε + 2|δmean|·max|x − mean|/σ² (σ² = var + eps). Propagated through
 * y = (x − mean)/σ·s + b, plus a few roundings of y and b; doubled for slack.
 */
function tolerance(x: Float32Array, D: number, rows: number, scale: Float32Array, bias: Float32Array, eps: number, want: Float64Array): Float64Array {
  const tol = new Float64Array(rows * D);
  const k = Math.ceil(D / 8) + 8;
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * D, (r + 1) * D);
    const mean = row.reduce((a, v) => a + v, 0) / D;
    const varEps = row.reduce((a, v) => a + (v - mean) ** 2, 0) / D + eps;
    const sigma = Math.sqrt(varEps);
    const maxX = row.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const maxDev = row.reduce((a, v) => Math.max(a, Math.abs(v - mean)), 0);
    const dMean = k * EPS * maxX;
    const dVarRel = k * EPS + (2 * dMean * maxDev) / varEps;
    for (let c = 0; c < D; c++) {
      const dev = Math.abs(row[c] - mean);
      const e = Math.abs(scale[c]) * ((dMean + EPS * (dev + dMean)) / sigma + (dev / sigma) * (dVarRel / 2 + 2 * EPS)) + 3 * EPS * (Math.abs(want[r * D + c]) + Math.abs(bias[c]));
      tol[r * D + c] = 2 * e;
    }
  }
  return tol;
}

async function check(rows: number, D: number, offset: number, spread: number, eps = 1e-6, subset?: number, variant?: LayernormVariant): Promise<void> {
  const rt = await gpu();
  const x = randomArray(rows * D, rows * 1000 + D, spread).map((v) => v + offset);
  const scale = randomArray(D, D + 1, 2);
  const bias = randomArray(D, D + 2, 1);
  const tx = rt.upload(x, [rows, D]), ts = rt.upload(scale), tb = rt.upload(bias);
  const n = subset ?? rows;
  const ty = layernorm(rt, tx, ts, tb, eps, undefined, subset, variant);
  assert.equal(ty.shape, [n, D]);
  const got = await rt.read(ty);
  const want = layernormRef(x, D, scale, bias, eps, n);
  const tol = tolerance(x, D, n, scale, bias, eps, want);
  for (let i = 0; i < n * D; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol[i])) assert.unreachable(`${variant ?? 'default'} rows=${rows} D=${D} offset=${offset}: element ${i}: got ${got[i]}, want ${want[i]} (|err| ${err.toExponential(2)} > ${tol[i].toExponential(2)})`);
  }
  for (const t of [tx, ts, tb, ty]) t.dispose();
}

for (const [rows, D] of [[1, 1], [1, 3], [7, 64], [5, 63], [3, 65], [100, 384], [13, 1000], [960, 384], [65, 8], [130, 392]] as const) {
  for (const v of layernormVariantsFor(D)) test(`layernorm ${v} ${rows}×${D} vs float64`, () => check(rows, D, 0, 3, 1e-6, undefined, v));
}

for (const v of layernormVariantsFor(384)) {
  test(`layernorm ${v} with |mean| ≫ std (where E[x²] − E[x]² in f32 loses every digit)`, () => check(9, 384, 1000, 0.5, 1e-6, undefined, v));
  test(`layernorm ${v} of constant rows gives the bias (variance 0, eps keeps it finite)`, () => check(4, 64, 7, 0, 1e-6, undefined, v));
  test(`layernorm ${v} rows: normalises only the first rows (final norm on CLS)`, () => check(37, 384, 0, 3, 1e-6, 1, v));
}

test('layernorm runs the register kernel on CPU adapters where D % 8 == 0, the tree elsewhere', async () => {
  const rt = await gpu();
  assert.is(layernormVariant(rt, 384), rt.adapter.isFallback ? 'rows' : 'tree');
  assert.is(layernormVariant(rt, 388), 'tree');
  const x = rt.upload(new Float32Array(12), [2, 6]), s = rt.upload(new Float32Array(6));
  assert.throws(() => layernorm(rt, x, s, s, 1e-6, undefined, undefined, 'rows'), (e: Error) => e instanceof MusiqError && /rows kernel needs D % 8 == 0, got D = 6/.test(e.message));
  for (const t of [x, s]) t.dispose();
});

test('layernorm rejects mismatched scale and bad rows with a MusiqError', async () => {
  const rt = await gpu();
  const x = rt.upload(new Float32Array(12), [3, 4]);
  const s4 = rt.upload(new Float32Array(4)), s3 = rt.upload(new Float32Array(3));
  assert.throws(() => layernorm(rt, x, s3, s3, 1e-6), (e: Error) => e instanceof MusiqError && /scale and bias must be f32 \[4\]/.test(e.message));
  assert.throws(() => layernorm(rt, x, s4, s4, 1e-6, undefined, 4), (e: Error) => e instanceof MusiqError && /rows 4 out of range/.test(e.message));
  for (const t of [x, s4, s3]) t.dispose();
});

test.run();
