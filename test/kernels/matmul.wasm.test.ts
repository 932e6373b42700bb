// The WebAssembly SIMD matmul (src/kernels/matmul.wasm.ts) against the float64 reference, over
// shapes that are not multiples of its 4×8 tile or its 64-row blocks, strided inputs and outputs,
// and the keys-as-columns packing attention uses. No GPU needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmMatmul } from '../../src/kernels/matmul.wasm.ts';
import { matmulRef } from '../../src/kernels/matmul.ref.ts';
import { randomArray } from '../../tools/random.ts';
import { MusiqError } from '../../src/common/errors.ts';

// Each output is a K-term f32 sum of plain multiplies and adds, as in matmul.test.ts: the error is
// at most ~K·ε·Σ|x||w| and in practice ~√K·ε·Σ|x||w|; 4·√K·ε·Σ|x||w| allows for that, and a wrong
// index, a dropped k or an unzeroed pad column is orders of magnitude larger (checked below).
const EPS = 2 ** -24;

/** The first output outside the tolerance, described; undefined when all are within it. */
function mismatch(y: ArrayLike<number>, x: Float32Array, w: Float32Array, M: number, K: number, N: number, what: string): string | undefined {
  const want = matmulRef(x, w, M, K, N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let mag = 0;
      for (let k = 0; k < K; k++) mag += Math.abs(x[m * K + k] * w[k * N + n]);
      const err = Math.abs(y[m * N + n] - want[m * N + n]);
      if (!(err <= 4 * Math.sqrt(K) * EPS * mag + 1e-30)) return `${what}: y[${m}][${n}] = ${y[m * N + n]}, reference ${want[m * N + n]}`;
    }
  }
  return undefined;
}

function check(y: ArrayLike<number>, x: Float32Array, w: Float32Array, M: number, K: number, N: number, what: string): void {
  const bad = mismatch(y, x, w, M, K, N, what);
  if (bad) assert.unreachable(bad);
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 3], [3, 5, 9], [4, 8, 8], [5, 1, 17], [65, 33, 15], [129, 70, 40], [200, 1152, 24], [64, 16, 1],
];

test('y = x·w on random and awkward shapes (1, tails of the 4×8 tile and of 64-row blocks, K = 1152)', () => {
  const mm = new WasmMatmul();
  let seed = 1;
  for (const [M, K, N] of SHAPES) {
    const x = randomArray(M * K, seed++), w = randomArray(K * N, seed++);
    const mark = mm.mark();
    check(mm.matmul(x, M, mm.pack(w, K, N)), x, w, M, K, N, `${M}×${K}×${N}`);
    mm.release(mark);
  }
});

test('strided x and y, weights packed from a strided slice and from columns (attention\'s keys)', () => {
  const mm = new WasmMatmul();
  const M = 37, K = 20, N = 13;
  const big = randomArray(M * 50, 7); // x: 20 of every 50 values, from 5
  const x = new Float32Array(M * K);
  for (let m = 0; m < M; m++) x.set(big.subarray(5 + m * 50, 5 + m * 50 + K), m * K);
  const wide = randomArray(K * 40, 8); // w: columns 11..23 of a K × 40 matrix
  const w = new Float32Array(K * N);
  for (let k = 0; k < K; k++) w.set(wide.subarray(k * 40 + 11, k * 40 + 11 + N), k * N);
  const packed = mm.pack(wide, K, N, 40, 11);
  const y = new Float32Array(M * 30).fill(-7);
  mm.matmul(big, M, packed, { xStride: 50, xOffset: 5, y, yStride: 30, yOffset: 2 });
  const got = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    got.set(y.subarray(2 + m * 30, 2 + m * 30 + N), m * N);
    assert.is(y[1 + m * 30], -7, 'values before the row untouched');
    assert.is(y[2 + N + m * 30], -7, 'values after the row untouched');
  }
  check(got, x, w, M, K, N, 'strided');
  // The same w given as its transpose (N rows of K, 3 floats apart from offset 1 within rows of K + 4).
  const wT = new Float32Array(N * (K + 4));
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wT[n * (K + 4) + 1 + k] = w[k * N + n];
  check(mm.matmul(x, M, mm.packTransposed(wT, K, N, K + 4, 1)), x, w, M, K, N, 'packTransposed');
});

test('memory released after a product is reused by the next weights (NaN past N in a panel stays out of y)', () => {
  const mm = new WasmMatmul();
  const mark = mm.mark();
  mm.pack(new Float32Array(30 * 16).fill(NaN), 30, 16); // two whole panels of NaN
  mm.release(mark);
  const x = randomArray(9 * 30, 4), w = randomArray(30 * 3, 5);
  check(mm.matmul(x, 9, mm.pack(w, 30, 3)), x, w, 9, 30, 3, 'after release');
});

test('softmax: each row of the product becomes its softmax (N = 1, tails of 4, rows spanning −1e4 to 0, huge values)', () => {
  const mm = new WasmMatmul();
  let seed = 40;
  for (const [M, K, N, scale] of [[1, 3, 1, 1], [5, 8, 3, 1], [9, 16, 7, 30], [70, 64, 919, 4], [6, 2, 13, 1e4]] as const) {
    const x = randomArray(M * K, seed++, scale), w = randomArray(K * N, seed++);
    const mark = mm.mark();
    const y = mm.matmul(x, M, mm.pack(w, K, N), { softmax: true });
    mm.release(mark);
    const logits = matmulRef(x, w, M, K, N);
    for (let m = 0; m < M; m++) {
      const row = logits.subarray(m * N, (m + 1) * N);
      const max = Math.max(...row);
      const e = row.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let n = 0; n < N; n++) {
        // The logit itself carries the product's f32 error (≤ 4·√K·ε·Σ|x||w|, as above), which exp turns
        // into that much relative error; exp adds ~1 ulp and the sum of N terms ~N·ε relative. Values
        // below e^-87 relative to the maximum are only asked to stay that small.
        let mag = 0;
        for (let k = 0; k < K; k++) mag += Math.abs(x[m * K + k] * w[k * N + n]);
        const want = e[n] / sum, got = y[m * N + n];
        const tol = want * (4 * Math.sqrt(K) * EPS * mag * 2 + (8 + 2 * N) * EPS) + 2e-38;
        if (!(Math.abs(got - want) <= tol)) assert.unreachable(`${M}×${K}×${N}: p[${m}][${n}] = ${got}, reference ${want}`);
      }
    }
  }
});

test('softmax\'s exp: within 4 ulp over [−87, 0] (rows [0, v]: logits exact, a sum of two terms)', () => {
  const mm = new WasmMatmul();
  const M = 4001;
  const v = Float32Array.from({ length: M }, (_, i) => -87 + (87 * i) / (M - 1)); // x = v, w = [0, 1]: logits [0, v] exactly
  const p = mm.matmul(v, M, mm.pack(new Float32Array([0, 1]), 1, 2), { softmax: true });
  for (let m = 0; m < M; m++) {
    const e = Math.exp(v[m]);
    const want = [1 / (1 + e), e / (1 + e)];
    for (let j = 0; j < 2; j++) {
      if (!(Math.abs(p[2 * m + j] - want[j]) <= 4 * EPS * want[j])) assert.unreachable(`v = ${v[m]}: p[${j}] = ${p[2 * m + j]}, reference ${want[j]}`);
    }
  }
});

test('gelu: gelu(x·w + bias) with the bias packed beside w, on awkward shapes and on values out to ±40', () => {
  const mm = new WasmMatmul();
  let seed = 70;
  for (const [M, K, N, scale] of [[1, 1, 1, 1], [5, 7, 3, 1], [67, 130, 17, 1], [9, 16, 40, 10], [200, 384, 24, 1]] as const) {
    const x = randomArray(M * K, seed++, scale), w = randomArray(K * N, seed++), bias = randomArray(N, seed++, 0.5);
    const mark = mm.mark();
    const y = mm.matmul(x, M, mm.pack(w, K, N, N, 0, bias), { gelu: true });
    mm.release(mark);
    const want = matmulRef(x, w, M, K, N, { bias, gelu: true });
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        // As matmul.test.ts: the product's 4·√K·ε·Σ|x||w| times 1.2 (GELU's slope stays below ~1.13),
        // and a few roundings of the epilogue relative to its values (bias add, exp ~1 ulp, divide).
        let mag = 0;
        for (let k = 0; k < K; k++) mag += Math.abs(x[m * K + k] * w[k * N + n]);
        const z = want[m * N + n];
        const tol = 1.2 * 4 * Math.sqrt(K) * EPS * mag + 16 * EPS * (Math.abs(bias[n]) + mag + Math.abs(z)) + 1e-30;
        if (!(Math.abs(y[m * N + n] - z) <= tol)) assert.unreachable(`${M}×${K}×${N}: y[${m}][${n}] = ${y[m * N + n]}, reference ${z}`);
      }
    }
  }
  assert.throws(() => mm.matmul(new Float32Array(4), 2, mm.pack(new Float32Array(6), 2, 3), { gelu: true }), /packed with their bias/);
  assert.throws(() => mm.pack(new Float32Array(6), 2, 3, 3, 0, new Float32Array(2)), /bias of 2 values for 3 columns/);
});

test('packing that grows the memory keeps every value (growth detaches views made before it)', () => {
  const mm = new WasmMatmul();
  mm.pack(new Float32Array(16376), 1, 16376); // 65,504 bytes of panels: 32 short of the first 64 KiB page
  const x = randomArray(3, 90), w = randomArray(8, 91), bias = randomArray(8, 92);
  const y = mm.matmul(x, 3, mm.pack(w, 1, 8, 8, 0, bias), { gelu: true }); // panels and bias cross into a second page
  const want = matmulRef(x, w, 3, 1, 8, { bias, gelu: true });
  for (let i = 0; i < 24; i++) assert.ok(Math.abs(y[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])), `y[${i}] = ${y[i]}, reference ${want[i]}`);
});

test('the tolerance catches a dropped k and a wrong column', () => {
  const mm = new WasmMatmul();
  const M = 9, K = 33, N = 11;
  const x = randomArray(M * K, 11), w = randomArray(K * N, 12);
  const y = mm.matmul(x, M, mm.pack(w, K, N));
  const dropped = Float32Array.from(y);
  dropped[5] -= x[0] * w[5];
  assert.ok(mismatch(dropped, x, w, M, K, N, 'dropped'));
  const swapped = Float32Array.from(y);
  [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
  assert.ok(mismatch(swapped, x, w, M, K, N, 'swapped'));
});

test('bad sizes are MusiqErrors, not out-of-bounds reads', () => {
  const mm = new WasmMatmul();
  assert.throws(() => mm.pack(new Float32Array(5), 2, 3), (e: unknown) => e instanceof MusiqError);
  const p = mm.pack(new Float32Array(6), 2, 3);
  assert.throws(() => mm.matmul(new Float32Array(3), 2, p), (e: unknown) => e instanceof MusiqError);
  assert.throws(() => mm.matmul(new Float32Array(4), 2, p, { y: new Float32Array(5) }), (e: unknown) => e instanceof MusiqError);
  assert.throws(() => mm.release(mm.mark() + 16), (e: unknown) => e instanceof MusiqError);
});

test.run();
