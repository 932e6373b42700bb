import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { gpu, subgroupSkip } from '../gpu.ts';
import { matmul, matmulVariant, matmulVariantsFor, setMatmulTile, setMatmulVariant, tuneMatmul, tuneMatmulTile, MATMUL_VARIANTS, type MatmulOptions } from '../../src/kernels/matmul.ts';
import { isCpuAdapter } from '../../src/runtime/device.ts';
import { matmulRef } from '../../src/kernels/matmul.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { adapterKey, wallMsInTurns, type TuneCache } from '../../src/kernels/tune.ts';
import { demote, promote } from '../../src/kernels/tiers.ts';
import { defaultTunePath, fileTuneCache } from '../../src/kernels/tune-cache.node.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomArray } from '../../tools/random.ts';
import { f16Value, toF16 } from '../../src/runtime/f16.ts';

// Tolerance per output, from f32 rounding (ε = 2^-24):
// - the dot product: each variant sums K products in f32; the error of such a sum is at most
//   ~K·ε·Σ|x||w| and in practice (rounding errors of random sign, partial sums in blocks)
//   ~√K·ε·Σ|x||w|. We allow 4·√K·ε·Σ|x||w|, times 1.2 because GELU's slope is at most ~1.13;
// - each epilogue step (bias add, GELU's own tanh and multiplies, residual add) rounds once or
//   a few times relative to the values involved: 8·ε·(|b| + |z| + |r| + |y|).
// A real bug (a wrong index, a missing k or a dropped tail) is many times larger: see the
// "tolerance catches" test below.
const EPS = 2 ** -24;

interface Case {
  M: number;
  K: number;
  N: number;
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array;
  residual: Float32Array;
}

function makeCase(M: number, K: number, N: number, seed: number): Case {
  return { M, K, N, x: randomArray(M * K, seed), w: randomArray(K * N, seed + 1), bias: randomArray(N, seed + 2), residual: randomArray(M * N, seed + 3) };
}

type Epilogue = Pick<MatmulOptions, 'gelu'> & { bias?: boolean; residual?: boolean };

/** The float64 answer and the tolerance of every output (see above). */
function expected(c: Case, e: Epilogue): { want: Float64Array; tol: Float64Array } {
  const { M, K, N } = c;
  const bias = e.bias ? c.bias : undefined;
  const z = matmulRef(c.x, c.w, M, K, N, { bias });
  const want = matmulRef(c.x, c.w, M, K, N, { bias, gelu: e.gelu, residual: e.residual ? c.residual : undefined });
  const absSum = matmulRef(c.x.map(Math.abs), c.w.map(Math.abs), M, K, N);
  const tol = new Float64Array(M * N);
  for (let i = 0; i < M * N; i++) {
    const b = bias ? Math.abs(bias[i % N]) : 0;
    const r = e.residual ? Math.abs(c.residual[i]) : 0;
    tol[i] = 4 * Math.sqrt(K) * EPS * absSum[i] * 1.2 + 8 * EPS * (b + Math.abs(z[i]) + r + Math.abs(want[i])) + 1e-30;
  }
  return { want, tol };
}

/** Largest |error| / tolerance over all outputs (≤ 1 passes); Infinity for NaN or ±Inf. */
function errorRatio(exp: { want: Float64Array; tol: Float64Array }, got: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    worst = Math.max(worst, Math.abs(got[i] - exp.want[i]) / exp.tol[i]);
  }
  return worst;
}

async function runGpu(rt: Runtime, c: Case, e: Epilogue, variant?: string, halfW = false): Promise<Float32Array> {
  const w = halfW ? rt.upload(toF16(c.w), [c.K, c.N], 'f16') : rt.upload(c.w, [c.K, c.N]);
  const t = { x: rt.upload(c.x, [c.M, c.K]), w, b: rt.upload(c.bias), r: rt.upload(c.residual, [c.M, c.N]) };
  const y = matmul(rt, t.x, t.w, { bias: e.bias ? t.b : undefined, gelu: e.gelu, residual: e.residual ? t.r : undefined, variant });
  const got = await rt.read(y);
  for (const u of [t.x, t.w, t.b, t.r, y]) u.dispose();
  return got;
}

// [M, K, N]: trivial, primes, not multiples of any tile, N % 4 ≠ 0, K % 4 ≠ 0, one vec4 column,
// K = 1, the MUSIQ layer shapes with few tokens, and a long K like the 16384→384 embedding.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 65, 17],
  [5, 3, 4],
  [1, 8, 4],
  [17, 1, 8],
  [9, 12, 36],
  [70, 36, 44],
  [37, 384, 1152],
  [37, 1152, 384],
  [130, 16384, 40],
  // blocked lays invocations out flat over (12-row block, vec4-column pair): several row blocks
  // in a workgroup, invocations past the last row, and an odd number of vec4 columns (a half
  // pair) that does not divide the 64 invocations.
  [13, 20, 12],
  [50, 9, 20],
  [6, 7, 1028],
  // uniform binds X in 64 KiB windows of 32 rows (14 at K = 1152): two tiles, the last one's
  // window moved back from the buffer's end; 3 tiles of 14; 4 whole tiles.
  [45, 384, 20],
  [128, 384, 1152],
];

for (const [M, K, N] of SHAPES) {
  test(`matmul ${M}×${K}×${N}: every variant that can run it matches float64`, async () => {
    const rt = await gpu();
    const c = makeCase(M, K, N, M * 1000 + K + N);
    const exp = expected(c, {});
    const variants = matmulVariantsFor(rt, M, K, N);
    assert.ok(variants.includes('naive') && variants.includes('tiled'), 'naive and tiled take any shape');
    for (const variant of variants) {
      const ratio = errorRatio(exp, await runGpu(rt, c, {}, variant));
      assert.ok(ratio <= 1, `${variant}: error is ${ratio.toFixed(2)}× the tolerance`);
    }
    // What matmul() picks by itself (default or tuned, with fallbacks) must run this shape.
    assert.ok(variants.includes(matmulVariant(rt, M, K, N)));
    assert.ok(errorRatio(exp, await runGpu(rt, c, {})) <= 1, 'default choice');
  });
}

// f16 weights: the kernels widen each half to f32 exactly, so against float64 on the rounded
// weights the f32 tolerance holds unchanged. Any wrong half index or decode is far outside it.
// [45, 384, 20] and [128, 384, 1152] are shapes matmul_uniform takes (its W through an
// rgba16float texture copy) on adapters without subgroups.
for (const [M, K, N] of [[1, 1, 1], [7, 13, 5], [33, 65, 17], [9, 12, 36], [37, 384, 1152], [45, 384, 20], [128, 384, 1152], [130, 16384, 40]] as const) {
  test(`matmul ${M}×${K}×${N} with f16 weights: every variant matches float64 on the rounded weights`, async () => {
    const rt = await gpu();
    if (!rt.features.has('shader-f16')) return skip('shader-f16', `${rt.adapterName} has no shader-f16`);
    const c = makeCase(M, K, N, M * 77 + K + N);
    const rounded: Case = { ...c, w: Float32Array.from(toF16(c.w), f16Value) };
    const e: Epilogue = { bias: true, gelu: K > 100, residual: N % 2 === 1 };
    const exp = expected(rounded, e);
    for (const variant of [...matmulVariantsFor(rt, M, K, N), undefined]) {
      const ratio = errorRatio(exp, await runGpu(rt, c, e, variant, true));
      assert.ok(ratio <= 1, `${variant ?? 'default'}: error is ${ratio.toFixed(2)}× the tolerance`);
    }
  });
}

test('f16 weights on an adapter without shader-f16 are a MusiqError, not a shader failure', async () => {
  const rt = await gpu();
  const w = rt.upload(toF16([1, 2, 3, 4]), [1, 4], 'f16');
  const fake = Object.create(rt, { features: { value: new Set<string>() } }) as Runtime;
  assert.throws(() => matmul(fake, rt.upload(new Float32Array([1]), [1, 1]), w), (e: Error) => e instanceof MusiqError && /shader-f16/.test(e.message));
  w.dispose();
});

const EPILOGUES: Epilogue[] = [{ bias: true }, { gelu: true }, { bias: true, gelu: true }, { residual: true }, { bias: true, gelu: true, residual: true }];

for (const [M, K, N] of [[19, 40, 72], [6, 7, 9], [45, 384, 20]] as const) {
  test(`matmul ${M}×${K}×${N} epilogues (bias, gelu, residual) on every variant`, async () => {
    const rt = await gpu();
    const c = makeCase(M, K, N, 77 + N);
    // Scale x so pre-activations reach the GELU's curved range and its negative tail.
    c.x = c.x.map((v) => v * 3);
    for (const e of EPILOGUES) {
      const exp = expected(c, e);
      for (const variant of matmulVariantsFor(rt, M, K, N)) {
        const ratio = errorRatio(exp, await runGpu(rt, c, e, variant));
        assert.ok(ratio <= 1, `${variant} ${JSON.stringify(e)}: error is ${ratio.toFixed(2)}× the tolerance`);
      }
    }
  });
}

test('every epilogue (bias, GELU, residual, each combination) matches float64 in every variant', async () => {
  const rt = await gpu();
  // 45 rows: a partial 32-row tile; 9 vec4 columns: a tile whose second column is past N.
  const [M, K, N] = [45, 20, 36];
  const c = makeCase(M, K, N, 11);
  for (const bias of [false, true]) for (const gelu of [false, true]) for (const residual of [false, true]) {
    const e: Epilogue = { bias, gelu, residual };
    const exp = expected(c, e);
    for (const variant of matmulVariantsFor(rt, M, K, N)) {
      const ratio = errorRatio(exp, await runGpu(rt, c, e, variant));
      assert.ok(ratio <= 1, `${variant} ${JSON.stringify(e)}: error is ${ratio.toFixed(2)}× the tolerance`);
    }
  }
});

test('matmul residual may be the output itself (in-place x += x·W)', async () => {
  const rt = await gpu();
  const c = makeCase(21, 32, 48, 5);
  const exp = expected(c, { residual: true });
  for (const variant of matmulVariantsFor(rt, 21, 32, 48)) {
    const x = rt.upload(c.x, [21, 32]), w = rt.upload(c.w, [32, 48]), y = rt.upload(c.residual, [21, 48]);
    matmul(rt, x, w, { residual: y, out: y, variant });
    const ratio = errorRatio(exp, await rt.read(y));
    assert.ok(ratio <= 1, `${variant}: ${ratio.toFixed(2)}`);
    for (const t of [x, w, y]) t.dispose();
  }
});

test('a long K is summed over several dispatches on CPU adapters; bias and residual are added once', async () => {
  const rt = await gpu();
  const cpu = rt.adapter.architecture === 'software' || rt.adapter.isFallback;
  // 4100: a second part 4 long; 8200 with the residual in the output itself; GELU is never split.
  const cases: [number, number, number, Epilogue, boolean][] = [
    [37, 4100, 12, { bias: true }, false],
    [9, 8200, 8, { bias: true, residual: true }, false],
    [9, 8200, 8, { residual: true }, true],
    [5, 4104, 8, { bias: true, gelu: true }, false],
  ];
  for (const [M, K, N, e, inPlace] of cases) {
    const c = makeCase(M, K, N, M + K + N);
    const exp = expected(c, e);
    for (const variant of matmulVariantsFor(rt, M, K, N)) {
      const x = rt.upload(c.x, [M, K]), w = rt.upload(c.w, [K, N]), b = rt.upload(c.bias), r = rt.upload(c.residual, [M, N]);
      const labels: string[] = [];
      const dispatch = rt.dispatch.bind(rt);
      rt.dispatch = (d) => (labels.push(d.label ?? d.kernel), dispatch(d));
      let y: Tensor<'f32'>;
      try {
        y = matmul(rt, x, w, { bias: e.bias ? b : undefined, gelu: e.gelu, residual: e.residual ? r : undefined, out: inPlace ? r : undefined, variant });
      } finally {
        rt.dispatch = dispatch;
      }
      const ratio = errorRatio(exp, await rt.read(y));
      assert.ok(ratio <= 1, `${variant} ${M}×${K}×${N}: error is ${ratio.toFixed(2)}× the tolerance`);
      const split = cpu && variant.startsWith('subgroup') && !e.gelu;
      assert.is(labels.length, split ? Math.ceil(K / 4096) : 1, `${variant} ${M}×${K}×${N}: ${labels.join('; ')}`);
      for (const t of new Set([x, w, b, r, y])) t.dispose();
    }
  }
});

test('matmul GELU of ±1e4 and ±1e20 is finite and exact (no tanh overflow NaN)', async () => {
  const rt = await gpu();
  const xs = [1e4, -1e4, 1e20, -1e20, 0, 3];
  for (const variant of matmulVariantsFor(rt, xs.length, 4, 4)) {
    // Row i of x is [xs[i], 0, 0, 0]; w is the identity, so the pre-activation row is x itself.
    const x = new Float32Array(xs.length * 4);
    xs.forEach((v, i) => (x[i * 4] = v));
    const eye = new Float32Array(16).map((_, i) => (i % 5 === 0 ? 1 : 0));
    const tx = rt.upload(x, [xs.length, 4]), tw = rt.upload(eye, [4, 4]);
    const y = await rt.read(matmul(rt, tx, tw, { gelu: true, variant }));
    const want = [1e4, 0, 1e20, 0, 0, 0.5 * 3 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (3 + 0.044715 * 27)))];
    xs.forEach((_, i) => {
      assert.ok(Number.isFinite(y[i * 4]), `${variant}: gelu(${xs[i]}) = ${y[i * 4]}`);
      assert.ok(Math.abs(y[i * 4] - Math.fround(want[i])) <= 4 * EPS * Math.abs(want[i]), `${variant}: gelu(${xs[i]}) = ${y[i * 4]}, want ${want[i]}`);
    });
    tx.dispose();
    tw.dispose();
  }
});

test('matmul tolerance catches a missing k term and a missing row (the test can fail)', async () => {
  const rt = await gpu();
  const c = makeCase(37, 384, 1152, 9);
  const exp = expected(c, {});
  const got = await runGpu(rt, c, {});
  assert.ok(errorRatio(exp, got) <= 1);
  // Drop the last k from the reference's view of the GPU result: x[:, K-1]·w[K-1, :] missing.
  const noLastK = got.map((v, i) => v - c.x[Math.floor(i / c.N) * c.K + c.K - 1] * c.w[(c.K - 1) * c.N + (i % c.N)]);
  assert.ok(errorRatio(exp, noLastK) > 1, 'a missing k term must fail');
  const zeroRow = got.map((v, i) => (i >= 36 * c.N ? 0 : v));
  assert.ok(errorRatio(exp, zeroRow) > 1, 'an unwritten tail row must fail');
});

test('matmul offers its subgroup kernel exactly where the adapter has subgroups of 8+ lanes', async () => {
  // The shape tests above run every variant matmulVariantsFor offers; this checks that the
  // subgroup kernel is left out only for an adapter reason, and prints it.
  const rt = await gpu();
  const skip = subgroupSkip(rt, 8);
  assert.is(matmulVariantsFor(rt, 32, 32, 64).includes('subgroup'), !skip);
  assert.is(matmulVariantsFor(rt, 32, 32, 64).includes('subgroup64'), !skip);
  if (skip) console.log(`  (matmul subgroup variants not offered: ${skip})`);
});

test('the subgroup kernel runs 64-row tiles on GPUs from K = 1152 on; on CPU adapters only once promoted and measured faster', async () => {
  const rt = await gpu();
  const why = subgroupSkip(rt, 8);
  if (why) return skip('subgroups-8', why);
  setMatmulVariant(rt, 'subgroup');
  const cpu = rt.adapter.architecture === 'software' || rt.adapter.isFallback;
  try {
    // [promoted, measured tile]: the 64-row tile on a CPU adapter needs both.
    for (const [promoted, tile64] of [[false, undefined], [false, true], [true, undefined], [true, false], [true, true]] as const) {
      demote(rt);
      if (promoted) promote(rt);
      setMatmulTile(rt, tile64);
      const what = `promoted ${promoted}, measured tile ${tile64}`;
      const long = cpu ? (promoted && tile64 ? 'subgroup64' : 'subgroup') : 'subgroup64';
      const short = cpu && promoted && tile64 ? 'subgroup64' : 'subgroup';
      assert.is(matmulVariant(rt, 37, 1152, 384), long, what);
      assert.is(matmulVariant(rt, 960, 16384, 384), long, what);
      assert.is(matmulVariant(rt, 37, 1148, 384), short, `K < 1152, ${what}`);
      assert.is(matmulVariant(rt, 919, 64, 256), short, what);
      assert.is(matmulVariant(rt, 1, 384, 1152), short, what);
    }
    // N % 4 != 0 falls back past both subgroup tiles and blocked: to tiled, or on a CPU adapter
    // to naive where the output is tiny (a head: cheapest to compile).
    assert.is(matmulVariant(rt, 37, 1152, 6), cpu ? 'naive' : 'tiled');
    assert.is(matmulVariant(rt, 1000, 1152, 6), 'tiled');
    setMatmulVariant(rt, 'blocked');
    assert.is(matmulVariant(rt, 37, 1152, 384), 'blocked', 'the 64-row tile refines only the subgroup choice');
  } finally {
    demote(rt);
    setMatmulTile(rt, undefined);
    setMatmulVariant(rt, undefined);
  }
});

test('tuneMatmulTile times both subgroup tiles on a CPU adapter that runs the subgroup kernel, remembers the faster, and a later process recalls it', async () => {
  const rt = await gpu();
  setMatmulVariant(rt, undefined);
  setMatmulTile(rt, undefined);
  const store = new Map<string, string>();
  const cache: TuneCache = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
  const measures = isCpuAdapter(rt.adapter) && matmulVariant(rt, 256, 384, 1152) === 'subgroup';
  const labels: string[] = [];
  const dispatch = rt.dispatch.bind(rt);
  rt.dispatch = (d) => {
    labels.push(d.kernel);
    dispatch(d);
  };
  let use64: boolean;
  try {
    use64 = await tuneMatmulTile(rt, cache);
  } finally {
    rt.dispatch = dispatch;
  }
  if (!measures) {
    assert.not.ok(use64);
    assert.equal(labels, [], 'nothing timed: not a CPU adapter on the subgroup kernel');
    assert.is(store.size, 0);
    return;
  }
  console.log(`  64-row tile ${use64 ? 'faster' : 'slower'} here`);
  assert.ok(labels.includes('matmul_subgroup') && labels.includes('matmul_subgroup64'), 'both tiles timed');
  assert.equal([...store.values()], [use64 ? '64' : '32']);
  try {
    promote(rt);
    assert.is(matmulVariant(rt, 919, 384, 1152), use64 ? 'subgroup64' : 'subgroup', 'the promoted tier takes the faster');
    // A new process (nothing in memory) recalls the measured tile from the cache, with the variant.
    setMatmulTile(rt, undefined);
    store.set([...store.keys()][0], use64 ? '32' : '64');
    await tuneMatmul(rt, { cache });
    assert.is(matmulVariant(rt, 919, 384, 1152), use64 ? 'subgroup' : 'subgroup64', 'recalled from the cache');
  } finally {
    demote(rt);
    setMatmulTile(rt, undefined);
    setMatmulVariant(rt, undefined);
  }
});

test('the tuning key tells subgroup widths apart (lavapipe at LP_NATIVE_VECTOR_WIDTH 128/256/512)', () => {
  const rt = (min: number) => ({ adapter: { vendor: 'mesa', architecture: 'software', device: '', description: 'llvmpipe' }, device: { adapterInfo: { subgroupMinSize: min, subgroupMaxSize: min } } }) as unknown as Runtime;
  assert.is.not(adapterKey(rt(4)), adapterKey(rt(8)));
  assert.is(adapterKey(rt(8)), adapterKey(rt(8)));
});

test('matmul rejects bad shapes, dtypes, aliasing and unknown or impossible variants with MusiqError', async () => {
  const rt = await gpu();
  const x = rt.zeros([3, 4]), w = rt.zeros([4, 6]), wBad = rt.zeros([5, 6]), odd = rt.zeros([4, 5]), u = rt.zeros([4, 6], 'u32');
  const throws = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof MusiqError && re.test((e as Error).message));
  throws(() => matmul(rt, x, wBad), /do not multiply/);
  throws(() => matmul(rt, rt.zeros([12]), w), /do not multiply/);
  throws(() => matmul(rt, x, u as unknown as Tensor), /w must be f32/);
  throws(() => matmul(rt, x, w, { bias: rt.zeros([5]) }), /bias .* expected 6/);
  throws(() => matmul(rt, x, w, { residual: rt.zeros([3, 5]) }), /residual/);
  throws(() => matmul(rt, x, w, { out: rt.zeros([2, 6]) }), /out .* expected 18/);
  throws(() => matmul(rt, x, rt.zeros([4, 4]), { out: x }), /must not be the same tensor as x/);
  throws(() => matmul(rt, x, w, { variant: 'fast' }), /unknown variant "fast"/);
  throws(() => matmul(rt, x, odd, { variant: 'blocked' }), /N = 5 is not a multiple of 4/);
});

test('tuneMatmul picks a runnable variant, remembers it and uses the cache', async () => {
  const rt = await gpu();
  const store = new Map<string, string>();
  const cache: TuneCache = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
  // A small shape keeps this quick on a CPU adapter; the choice is only remembered for this test run.
  const choice = await tuneMatmul(rt, { cache, shape: [16, 64, 128], retune: true });
  assert.ok((MATMUL_VARIANTS as readonly string[]).includes(choice));
  assert.is(store.size, 1);
  assert.is([...store.values()][0], choice);
  // matmul() now uses the choice for every shape it can run.
  assert.ok(matmulVariantsFor(rt, 64, 384, 1152).includes(choice));
  assert.is(matmulVariant(rt, 64, 384, 1152), choice);
  store.set([...store.keys()][0], 'naive');
  assert.is(await tuneMatmul(rt, { cache, shape: [16, 64, 128] }), choice, 'the in-memory choice wins over the cache');
  // Forgotten in memory, the cached choice is taken without measuring.
  setMatmulVariant(rt, undefined);
  assert.is(await tuneMatmul(rt, { cache, shape: [16, 64, 128] }), 'naive');
  assert.is(matmulVariant(rt, 64, 384, 1152), 'naive');
  // Timings of so small a shape are noise: leave later tests (the model's) the per-adapter default.
  setMatmulVariant(rt, undefined);
});

/**
 * A stand-in runtime: a sync waits a `roundTripMs` round trip plus each encoded run's cost (the
 * encode passes it), the first `slowSyncs` syncs at 4× (a GPU that was idle, clocking up).
 */
function standIn(roundTripMs: number, slowSyncs = 0) {
  let pending = 0;
  let syncs = 0;
  const rt = {
    sync: async () => {
      const ms = roundTripMs + pending * (syncs++ < slowSyncs ? 4 : 1);
      pending = 0;
      await new Promise((r) => setTimeout(r, ms));
    },
  } as unknown as Runtime;
  return { rt, encode: (costMs: number) => () => void (pending += costMs) };
}

test('wallMsInTurns times one run, not the round trip: on a GPU each sample batches runs until it lasts minSampleMs', async () => {
  const { rt, encode } = standIn(3);
  const [batched] = await wallMsInTurns(rt, [encode(0.02)], 3, 20);
  const [single] = await wallMsInTurns(rt, [encode(0.02)], 3, 0);
  // Batched: ≥ 20 ms samples of ≥ 512 runs, so at most ~4/512 ms of round trip per run.
  assert.ok(batched > 0.015 && batched < 0.1, `batched ${batched} ms per run, expected ~0.02`);
  // minSampleMs 0 (CPU adapters): one run per sample, round trip included, as before. The stand-in's
  // 3 ms timer counts from libuv's loop time, cached up to ~1 ms before performance.now() read it,
  // so it may fire ~1 ms early by that clock (2.24 ms was seen): ≥ 1.5 ms is still 75× a run.
  assert.ok(single >= 1.5, `single ${single} ms, expected the ~3 ms round trip`);
});

test('wallMsInTurns ranks kernels by their cost, not by who came first to a slow-starting GPU', async () => {
  // The first 14 syncs (all of the first kernel's calibration and more) run at 4× cost: timed one
  // after the other, the cheaper kernel, first, looked twice as slow as the other.
  // 40 ms samples: the cheap kernel, calibrated at 4× cost, gets a batch of 512 runs (12 ms
  // samples, the 2 ms round trip included) against the dear one's 1,024, and reads 0.024-0.026
  // against 0.041-0.042 ms a run in Node and Deno. With 10 ms samples (a batch of 128, 4.6 ms) it
  // read 0.032-0.040 against 0.047-0.052, and once in CI under Deno, its timers late by ~4 ms in
  // all three samples, 0.065 against 0.051.
  const { rt, encode } = standIn(2, 14);
  const [cheap, dear] = await wallMsInTurns(rt, [encode(0.02), encode(0.04)], 3, 40);
  assert.ok(cheap < dear, `cheap ${cheap} ms against dear ${dear} ms per run`);
});

test('on a CPU adapter whose winner is known, tuneMatmul measures nothing (a newcomer pays no tuning); elsewhere it measures', async () => {
  const rt = await gpu();
  setMatmulVariant(rt, undefined);
  const store = new Map<string, string>();
  const cache: TuneCache = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
  const cpu = ['software', 'swiftshader'].includes(rt.adapter.architecture);
  const t0 = performance.now();
  const choice = await tuneMatmul(rt, { cache, shape: [16, 64, 128] });
  if (cpu || rt.adapter.vendor === 'nvidia') {
    assert.is(store.size, 0, 'nothing was measured, so nothing is cached');
    assert.ok(cpu ? choice.startsWith('subgroup') || choice === 'blocked' : choice === 'tiled', `known choice ${choice}`);
    console.log(`  known choice ${choice} in ${(performance.now() - t0).toFixed(1)} ms`);
  } else {
    assert.is(store.size, 1);
  }
  setMatmulVariant(rt, undefined);
});

test('an NVIDIA GPU takes the tiled matmul without timing anything (measured on an H200); other GPUs are timed', async () => {
  const stub = (vendor: string) => {
    const calls: string[] = [];
    const rt = new Proxy({ adapter: { vendor, architecture: 'hopper', device: '', description: 'stub', isFallback: false }, device: { adapterInfo: {} }, features: new Set() }, {
      get: (target, key) => (key in target ? target[key as keyof typeof target] : (calls.push(String(key)), () => { throw new Error(`stub: ${String(key)}`); })),
    }) as unknown as Runtime;
    return { rt, calls };
  };
  const nvidia = stub('nvidia');
  assert.is(await tuneMatmul(nvidia.rt), 'tiled');
  assert.equal(nvidia.calls, [], 'nothing uploaded or dispatched');
  setMatmulVariant(nvidia.rt, undefined);
  const other = stub('amd');
  try {
    await tuneMatmul(other.rt);
  } catch {
    // The stub cannot run kernels; that tuning tried to is the point.
  }
  assert.ok(other.calls.length > 0, 'another GPU is measured');
  setMatmulVariant(other.rt, undefined);
});

test('fileTuneCache persists choices, and survives corrupt or unwritable files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'musiq-tune-'));
  const saved = process.env.MUSIQ_HOME;
  process.env.MUSIQ_HOME = dir;
  try {
    assert.is(defaultTunePath(), join(dir, 'tune.json'));
  } finally {
    if (saved === undefined) delete process.env.MUSIQ_HOME;
    else process.env.MUSIQ_HOME = saved;
  }
  const path = join(dir, 'sub', 'tune.json');
  const cache = fileTuneCache(path);
  assert.is(cache.get('a'), undefined);
  cache.set('a', 'subgroup');
  cache.set('b', 'tiled');
  assert.is(fileTuneCache(path).get('a'), 'subgroup', 'a second cache on the same file reads it');
  assert.is(fileTuneCache(path).get('b'), 'tiled');
  writeFileSync(path, '{ not json');
  assert.is(cache.get('a'), undefined, 'a corrupt file reads as empty');
  // A path under a regular file cannot be created: set() must not throw.
  fileTuneCache(join(path, 'x', 'tune.json')).set('a', 'naive');
});

test.run();
