import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { rootChannels, stem, stemChunkSize } from '../../src/kernels/stem.ts';
import { stemRef } from '../../src/kernels/stem.ref.ts';
import { disposeStemWeights, standardizeConv, stemKeyShapes, uploadStemWeights } from '../../src/musiq/stem-weights.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';
import { readFileSync } from 'node:fs';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';

const PATCH = 32 * 32 * 3;

/** Synthetic raw checkpoint arrays: conv kernels any scale (StdConv rescales them), GN scale ≈ 1. */
function syntheticStem(width: number, seed: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  let s = seed;
  for (const [key, shape] of stemKeyShapes(width)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const r = randomArray(n, s++);
    out[key] = key.endsWith('/scale') ? r.map((v) => 1 + 0.5 * v) : key.endsWith('/bias') ? r.map((v) => 0.3 * v) : r.map((v) => 0.1 * v + 0.02);
  }
  return out;
}

/** The patches each run checks, in the model's [-1, 1] range and beyond. */
const patchKinds: Record<string, (seed: number) => Float32Array> = {
  random: (seed) => randomArray(PATCH, seed),
  // Flat grey: conv_root's output is constant except where the SAME padding bites.
  constant: () => new Float32Array(PATCH).fill(0.7),
  // A padding-only patch: every group of gn_root (and, at one channel per group, of gn1) has
  // zero variance, so the output there must be exactly the bias.
  zero: () => new Float32Array(PATCH),
  // Amplitude 1e-4: conv_root's output variance (~1e-7) is below gn_root's eps (1e-6), which
  // then decides the scale of everything after it.
  faint: (seed) => randomArray(PATCH, seed, 1e-4),
  large: (seed) => randomArray(PATCH, seed, 100),
};

async function checkStem(width: number, kinds: string[]): Promise<void> {
  const rt = await gpu();
  const raw = syntheticStem(width, width);
  const w = await uploadStemWeights(rt, async (k) => raw[k], width);
  // This adapter's root convolution: RGB, or RGB0 with zero weights for the fourth channel.
  assert.equal([...w.convRoot.shape], [7, 7, rootChannels(rt), width]);
  const patches = new Float32Array(kinds.length * PATCH);
  kinds.forEach((k, i) => patches.set(patchKinds[k](100 + i), i * PATCH));
  const tp = rt.upload(patches, [kinds.length, PATCH]);
  const out = stem(rt, w, tp);
  const F = 64 * 4 * width;
  assert.equal([...out.shape], [kinds.length, F]);
  const got = await rt.read(out);
  for (const [i, kind] of kinds.entries()) {
    const ref = stemRef(raw, patches.subarray(i * PATCH, (i + 1) * PATCH));
    let err = 0, scale = 0;
    for (let j = 0; j < F; j++) {
      err = Math.max(err, Math.abs(got[i * F + j] - ref[j]));
      scale = Math.max(scale, Math.abs(ref[j]));
    }
    // Outputs are GroupNorm-normalised sums of two branches (|y| up to ~7). Per conv→GN stage the
    // f32 rounding is a random walk of ~√K·u relative to Σ|x||w| ≈ √K·std(conv output), i.e.
    // ~K·u ≈ 3e-5 of the normalised value for K ≤ 576, times |scale| ≤ 1.5; four stages chained
    // give ~1e-4 at most (observed ≤ 3e-5). A wrong tap, channel order or padding moves outputs
    // by ≥ 1e-2; a wrong eps shows on the faint patch (gn_root 1e-4 instead of 1e-6: by ~5) and
    // the zero one (unit GroupNorms at 1e-6 instead of 1e-4: by 8e-3 at W = 32, 0.45 at W = 64).
    assert.ok(err <= 3e-4, `${kind} patch: max error ${err.toExponential(2)} (outputs up to ${scale.toFixed(2)})`);
  }
  for (const t of [tp, out]) t.dispose();
  disposeStemWeights(w);
}

test('stem W=32 (tiny checkpoints) vs the float64 reference', () => checkStem(32, ['random', 'constant', 'zero', 'faint', 'large']));
test('stem W=64 (real checkpoints) vs the float64 reference', () => checkStem(64, ['random', 'zero']));

// The shared fixture's patch embeddings come from an independent float32 PyTorch port of the
// original: run the real tiny checkpoint's stem (W = 32) on a few of its valid patches, apply the
// embedding on the CPU in float64 and compare. The fixture is float32, so 1e-4·(1 + |expected|)
// (the model reference tests' stage tolerance: f32 rounding of 8192-term sums and GroupNorms)
// — a channel-order or padding mistake moves embeddings by far more. (An eps mistake does not
// show on these patches; the synthetic faint and zero patches above catch it.)
test('stem of the tiny checkpoint reproduces the fixture patch embeddings (independent PyTorch port)', async () => {
  const rt = await gpu();
  const open = async (path: string) => {
    const url = new URL(`../fixtures/${path}`, import.meta.url);
    return openNpz(bytesSource(path, readFileSync(url)));
  };
  const ckpt = await open('checkpoints/tiny_koniq_s0.npz');
  const inter = await open('intermediates/tiny_koniq_s0__grad_512x384_png.npz');
  const read = (key: string) => ckpt.readF32(`opt/target/${key}`);
  const raw: Record<string, Float32Array> = {};
  for (const key of stemKeyShapes(32).keys()) raw[key] = await read(key);
  const kernel = await read('embedding/kernel'), bias = await read('embedding/bias');
  const packed = await inter.readF32('input_packed_hwc'), expected = await inter.readF32('patch_embedding');
  const COLS = PATCH + 3, D = bias.length, F = kernel.length / D;
  const valid: number[] = [];
  for (let r = 0; r * COLS < packed.length; r++) if (packed[r * COLS + PATCH + 2] === 1) valid.push(r);
  // First, last and a few in between: all three scales, image borders (zero-padded patches) included.
  const rows = [0, 1, Math.floor(valid.length / 3), Math.floor(valid.length / 2), valid.length - 2, valid.length - 1].map((i) => valid[i]);
  const patches = new Float32Array(rows.length * PATCH);
  rows.forEach((r, i) => patches.set(packed.subarray(r * COLS, r * COLS + PATCH), i * PATCH));
  const w = await uploadStemWeights(rt, async (k) => raw[k], 32);
  const tp = rt.upload(patches, [rows.length, PATCH]);
  const out = stem(rt, w, tp);
  const got = await rt.read(out);
  const embed = (f: ArrayLike<number>, at: number) => {
    const e = Float64Array.from(bias);
    for (let j = 0; j < F; j++) for (let d = 0; d < D; d++) e[d] += f[at + j] * kernel[j * D + d];
    return e;
  };
  for (const [i, r] of rows.entries()) {
    const fromGpu = embed(got, i * F);
    const fromRef = embed(stemRef(raw, patches.subarray(i * PATCH, (i + 1) * PATCH)), 0);
    for (let d = 0; d < D; d++) {
      const want = expected[r * D + d], tol = 1e-4 * (1 + Math.abs(want));
      assert.ok(Math.abs(fromGpu[d] - want) <= tol, `row ${r} dim ${d}: GPU stem gives ${fromGpu[d]}, fixture ${want}`);
      assert.ok(Math.abs(fromRef[d] - want) <= tol, `row ${r} dim ${d}: stemRef gives ${fromRef[d]}, fixture ${want}`);
    }
  }
  for (const t of [tp, out]) t.dispose();
  disposeStemWeights(w);
});

test('standardizeConv: per output channel, population std, eps on the std', () => {
  // [1, 1, 2, 2]: output channel 0 holds (1, 3), channel 1 holds (2, 6).
  const got = standardizeConv(new Float32Array([1, 2, 3, 6]), [1, 1, 2, 2]);
  const e0 = 1 / (1 + 1e-5), e1 = 2 / (2 + 1e-5);
  assert.equal([...got], [...new Float32Array([-e0, -e1, e0, e1])]);
  assert.throws(() => standardizeConv(new Float32Array(3), [1, 1, 2, 2]), (e: Error) => e instanceof MusiqError);
});

test('uploadStemWeights names the tensor whose size is wrong', async () => {
  const rt = await gpu();
  const raw = syntheticStem(32, 1);
  raw['block1/unit1/conv2/kernel'] = new Float32Array(10);
  try {
    await uploadStemWeights(rt, async (k) => raw[k], 32);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.ok(e instanceof MusiqError && /block1\/unit1\/conv2\/kernel/.test((e as Error).message), (e as Error).message);
  }
  try {
    await uploadStemWeights(rt, async (k) => raw[k], 48);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.ok(e instanceof MusiqError && /multiple of 32/.test((e as Error).message), (e as Error).message);
  }
});

test('stemChunkSize keeps the largest tensor within the binding limit', async () => {
  const rt = await gpu();
  for (const width of [32, 64]) {
    const n = stemChunkSize(rt, width);
    assert.ok(n >= 1 && n * 64 * 1024 * (width / 64) * 9 / 8 <= rt.limits.maxStorageBufferBindingSize, `${n} patches at W=${width}`);
  }
  const w = await uploadStemWeights(rt, async (k) => syntheticStem(32, 1)[k], 32);
  assert.throws(() => stem(rt, w, rt.zeros([2, 100])), (e: Error) => e instanceof MusiqError && /patches have shape/.test(e.message));
  disposeStemWeights(w);
});

test.run();
