// The GPU model against the float64 CPU reference of the whole model (src/musiq/model.ref.ts),
// and the scorer API around it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gpu } from '../gpu.ts';
import { createScorer } from '../../src/index.node.ts';
import { openCheckpoint } from '../../src/musiq/checkpoint.ts';
import { MusiqModel, stemParts } from '../../src/musiq/model.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { referenceForward, type RefParams } from '../../src/musiq/model.ref.ts';
import { writeSyntheticCheckpoint } from '../../tools/write-checkpoint.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { f16Value, toF16 } from '../../src/runtime/f16.ts';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const png = (name: string) => new Uint8Array(readFileSync(`${fixtures}images/${name}`));

/** The tensors `weights: 'f16'` keeps as f16: the encoder's and the embedding's matmul kernels. */
const HALF_KEYS = /(MultiHeadDotProductAttention_1\/(query|key|value|out)|MlpBlock_3\/Dense_[01]|^embedding)\/kernel$/;

/** `roundHalf`: those tensors rounded to f16 first, as the f16 path uploads them. */
async function refParams(bytes: Uint8Array, roundHalf = false): Promise<RefParams> {
  const ckpt = await openCheckpoint(bytesSource('ckpt', bytes));
  const map = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of ckpt.tensors) {
    const data = await ckpt.read(t.name);
    map.set(t.name, { shape: t.shape, data: roundHalf && HALF_KEYS.test(t.name) ? Float32Array.from(toF16(data), f16Value) : data });
  }
  if (roundHalf) assert.is([...map.keys()].filter((k) => HALF_KEYS.test(k)).length, 1 + 6 * ckpt.dims.layers, 'f16 tensors');
  return {
    get: (k) => {
      const t = map.get(k);
      if (!t) throw new Error(`reference asked for a missing key ${k}`);
      return t;
    },
  };
}

// f32 GPU vs f64 CPU through a 2-layer transformer: each f32 op adds ~1e-7 relative error and
// LayerNorm/softmax keep values O(1); on the tiny model we observe ~1e-6. 2e-5 relative to
// max(1, |value|) leaves margin yet catches any real mistake (wrong layout, eps, GELU form: ≥1e-4).
const TOL = 2e-5;

async function rejects(fn: () => Promise<unknown>, check: RegExp | ((e: Error) => boolean)): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const ok = check instanceof RegExp ? check.test((e as Error).message) : check(e as Error);
    assert.ok(ok, `unexpected error: ${(e as Error).message}`);
    return;
  }
  assert.unreachable('expected a rejection');
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, `${what} length`);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= TOL)) assert.unreachable(`${what}[${i}]: gpu ${got[i]} vs ref ${want[i]} (rel ${err.toExponential(2)})`);
  }
}

for (const [ckptName, image] of [
  ['tiny_koniq_s0', 'round_448x321.png'],
  ['tiny_ava_s0', 'tiny_31x47.png'],
] as const) {
  test(`GPU model = float64 reference: ${ckptName} on ${image}`, async () => {
    const bytes = new Uint8Array(readFileSync(`${fixtures}checkpoints/${ckptName}.npz`));
    const scorer = await createScorer({ engine: 'gpu', checkpoint: bytes, runtime: await gpu() });
    const r = await scorer.score(png(image), image);
    scorer.dispose();
    const ref = referenceForward(await refParams(bytes), preprocess(decodeImage(png(image), image)));
    close(r.logits, ref.logits, 'logits');
    close(r.embedding, ref.cls, 'CLS embedding');
    assert.ok(Math.abs(r.score - ref.score) <= TOL * Math.max(1, Math.abs(ref.score)), `score ${r.score} vs ${ref.score}`);
    if (ckptName === 'tiny_ava_s0') {
      assert.is(r.distribution!.length, 10);
      assert.ok(Math.abs(r.distribution!.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.ok(r.score >= 1 && r.score <= 10);
    }
  });
}

test('weights f16: the GPU model equals the float64 reference on f16-rounded weights, and differs from f32', async () => {
  const image = 'round_448x321.png';
  const bytes = new Uint8Array(readFileSync(`${fixtures}checkpoints/tiny_koniq_s0.npz`));
  const rt = await gpu();
  if (!rt.features.has('shader-f16')) return skip('shader-f16', `${rt.adapterName} has no shader-f16`);
  const half = await createScorer({ engine: 'gpu', checkpoint: bytes, runtime: rt, weights: 'f16' });
  const r = await half.score(png(image), image);
  half.dispose();
  const input = preprocess(decodeImage(png(image), image));
  // Rounding happens once, at upload; after it the math is the f32 path's, so TOL holds.
  const ref = referenceForward(await refParams(bytes, true), input);
  close(r.logits, ref.logits, 'logits');
  close(r.embedding, ref.cls, 'CLS embedding');
  // The option took effect: the GPU score sits at the rounded weights' score, several times
  // closer to it than to the exact one (f32 noise here is ~1e-6; the rounding moves it ~3e-5).
  const exact = referenceForward(await refParams(bytes), input);
  const [toHalf, toExact] = [Math.abs(r.score - ref.score), Math.abs(r.score - exact.score)];
  console.log(`  f16 weights moved the score by ${Math.abs(ref.score - exact.score).toExponential(2)} (tiny checkpoint); GPU to f16 reference ${toHalf.toExponential(2)}`);
  assert.ok(toExact > 5e-6 && toExact > 3 * toHalf, `f16 weights did not take effect: ${toExact} from the exact score, ${toHalf} from the rounded one`);
  await rejects(() => createScorer({ engine: 'gpu', checkpoint: bytes, runtime: rt, weights: 'f8' as 'f16' }), /weights must be 'f32' or 'f16'/);
});

test('stemParts: chunks of at most `most` patches, sizes a patch apart at most (they share buffers), filling 32-row tiles', () => {
  for (const most of [128, 1820]) {
    for (let n = 1; n <= 4000; n += 7) {
      const parts = stemParts(n, most);
      const big = Math.ceil(n / parts), small = Math.floor(n / parts);
      assert.ok(parts >= Math.ceil(n / most) && parts <= Math.ceil(n / most) + 3 && big <= most, `${n} patches, at most ${most}: ${parts} chunks of ${small}-${big}`);
    }
  }
  // 1024×768 (918 patches), the case measured: 10 chunks of 91-92 compute 960 embedding rows, 8 of 114-115 1024.
  assert.is(stemParts(918, 128), 10);
  assert.is(stemParts(918, 1820), 1);
  assert.is(stemParts(1, 128), 1);
});

test('the stem in chunks (SwiftShader runs 128 patches at a time) gives the very numbers of one call', async () => {
  const rt = await gpu();
  const ckpt = await openCheckpoint(bytesSource('tiny.npz', new Uint8Array(readFileSync(`${fixtures}checkpoints/tiny_koniq_s0.npz`))));
  const model = await MusiqModel.load(rt, ckpt);
  try {
    const input = preprocess(decodeImage(png('round_448x321.png')));
    const whole = await model.forward(input, { stemChunk: input.tokens });
    // Each patch's stem and embedding row is computed alone: chunks change no bit (297 patches:
    // 5 chunks of 59-60, and 6 of 49-50).
    for (const chunk of [128, 50]) {
      const parts = await model.forward(input, { stemChunk: chunk });
      assert.equal([...parts.embedding], [...whole.embedding], `CLS embedding, chunks of ${chunk} of ${input.tokens} patches`);
      assert.equal([...parts.logits], [...whole.logits]);
    }
  } finally {
    model.dispose();
  }
});

test('scorer: RGB pixels score like the encoded image; timings and tokens are reported', async () => {
  const scorer = await createScorer({ engine: 'gpu', checkpoint: `${fixtures}checkpoints/tiny_koniq_s0.npz`, runtime: await gpu() });
  const bytes = png('small_64x64.png');
  const a = await scorer.score(bytes, 'small');
  const b = await scorer.score(decodeImage(bytes));
  assert.is(a.score, b.score);
  assert.is(a.variant, 'quality');
  assert.is(a.tokens, 49 + 144 + 4);
  for (const k of ['decode', 'preprocess', 'stem', 'encoder', 'total'] as const) assert.ok(a.timings[k] >= 0, k);
  const withMap = await scorer.score(bytes, 'small', { attention: true });
  assert.is(withMap.score, a.score);
  assert.equal([withMap.attention!.gridH, withMap.attention!.gridW], [2, 2]);
  assert.ok(withMap.attention!.values.every((v) => v > 0 && v < 1));
  // 1×1: the resized scales upsample it to 224² and 384² (49 + 144 patches) plus 1 native patch.
  const dot = await scorer.score({ width: 1, height: 1, data: new Uint8Array([200, 30, 90]) });
  assert.is(dot.tokens, 49 + 144 + 1);
  assert.ok(Number.isFinite(dot.score));
  await rejects(() => scorer.score({ width: 2, height: 2, data: new Uint8Array(5) }), /12 bytes/);
  await rejects(() => scorer.score(new Uint8Array([1, 2, 3]), 'junk.bin'), (e: Error) => e instanceof MusiqError && e.message.includes('junk.bin'));
  scorer.dispose();
  await rejects(() => scorer.score(bytes), /after dispose/);
});

test('imagenet head: top-5 classes with probabilities, score is NaN', async () => {
  const ckpt = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1000, seed: 3 });
  const scorer = await createScorer({ engine: 'gpu', checkpoint: ckpt, runtime: await gpu() });
  const r = await scorer.score(png('small_64x64.png'));
  scorer.dispose();
  assert.is(r.variant, 'imagenet');
  assert.ok(Number.isNaN(r.score));
  assert.is(r.top5!.length, 5);
  const p = r.top5!.map((t) => t.probability);
  assert.equal(p, [...p].sort((x, y) => y - x));
  const ref = referenceForward(await refParams(ckpt), preprocess(decodeImage(png('small_64x64.png'))));
  const best = [...ref.logits].indexOf(Math.max(...ref.logits));
  assert.is(r.top5![0].index, best);
});

test('full-size synthetic checkpoint scores a 512×384 image end to end with a finite score', async () => {
  const ckpt = writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 1 });
  const scorer = await createScorer({ engine: 'gpu', checkpoint: ckpt, runtime: await gpu() });
  assert.equal([scorer.dims.hidden, scorer.dims.layers, scorer.dims.heads], [384, 14, 6]);
  const r = await scorer.score(png('grad_512x384.png'));
  scorer.dispose();
  assert.is(r.tokens, 342);
  assert.ok(Number.isFinite(r.score), `score ${r.score}`);
  console.log(`\n  full-size 512×384 on the test adapter: ${(r.timings.total / 1000).toFixed(2)} s (stem ${(r.timings.stem / 1000).toFixed(2)} s, encoder ${(r.timings.encoder / 1000).toFixed(2)} s)`);
});

test.run();
