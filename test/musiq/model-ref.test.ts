// Validates the float64 CPU model reference (src/musiq/model.ref.ts) against the shared fixtures,
// which come from an independent float32 PyTorch implementation of the original model: every stage of
// one image, then scores. CPU only, no GPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsMusiq } from '../throws-musiq.ts';
import { skip } from '../skip.ts';
import { readFileSync } from 'node:fs';
import { openNpz, type Npz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { referenceForward, scoreFromLogits, type RefInput, type RefParams } from '../../src/musiq/model.ref.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { mulberry32, randomArray } from '../../tools/random.ts';

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url);
const PIXELS = 3072, COLUMNS = 3075; // packed row: 3072 pixels, spatial, scale id, mask (spec §2.8)

// The fixture is float32 (PyTorch); we are float64. Observed worst element differences on
// grad_512x384.png: 2.5e-5 (patch embedding, |values| ≤ 3.9) to 3.1e-5 (encoder layers, ≤ 6.8), RMS
// 2e-6 to 3.5e-6: float32 rounding of 8192-term sums and of the GroupNorms. 1e-4·(1 + |expected|)
// leaves 3× margin; it catches erf-instead-of-tanh GELU (1.3e-4 in layer 0), eps added to the
// variance instead of the std in StdConv, and gn_root eps 1e-4 instead of 1e-6.
const STAGE_TOL = 1e-4;
// The final logit is far more sensitive: the fixture README bounds float32-vs-float32 score
// differences by 1e-6, and we observe 2.6e-7, so 2e-6 (much tighter than the product's 5e-5) also
// catches GroupNorm eps 1e-6 in the unit (2.9e-6) and LayerNorm eps 1e-5 (5.4e-6). Population vs
// sample std in StdConv moves the score by only 4e-9 (the GroupNorm after every conv cancels the
// weight scale), so no fixture can tell those apart.
const LOGIT_TOL = 2e-6;
// The acceptance bound on scores, for the runs that also go through decode and preprocess.
const SCORE_TOL = 5e-5;

async function openFixture(path: string): Promise<Npz> {
  return openNpz(bytesSource(path, readFileSync(fixture(path))));
}

/** The `opt/target/` members of a checkpoint fixture as RefParams. */
async function loadParams(path: string): Promise<RefParams> {
  const npz = await openFixture(path);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of npz.members) {
    if (m.name.startsWith('opt/target/')) tensors.set(m.name.slice('opt/target/'.length), { shape: m.shape, data: await npz.readF32(m.name) });
  }
  return {
    get(key) {
      const t = tensors.get(key);
      if (!t) throw new Error(`${path}: no ${key}`);
      return t;
    },
  };
}

/** Valid rows (mask 1) of the original packed input, as the reference's input; plus their row numbers. */
function unpack(packed: Float32Array): { input: RefInput; rows: number[] } {
  const rows: number[] = [];
  for (let r = 0; r * COLUMNS < packed.length; r++) if (packed[r * COLUMNS + 3074] === 1) rows.push(r);
  const input: RefInput = {
    tokens: rows.length,
    patches: new Float32Array(rows.length * PIXELS),
    spatial: new Uint32Array(rows.length),
    scaleIds: new Uint32Array(rows.length),
  };
  rows.forEach((r, t) => {
    input.patches.set(packed.subarray(r * COLUMNS, r * COLUMNS + PIXELS), t * PIXELS);
    input.spatial[t] = packed[r * COLUMNS + 3072];
    input.scaleIds[t] = packed[r * COLUMNS + 3073];
  });
  return { input, rows };
}

/** Compares our rows (in order) with the fixture's rows `rows` of a (·, width) matrix; returns the worst differences. */
function compareRows(stage: string, got: Float64Array, want: Float32Array, rows: number[], width: number) {
  assert.is(got.length, rows.length * width, `${stage}: size`);
  let abs = 0, rel = 0, sq = 0;
  rows.forEach((r, i) => {
    for (let d = 0; d < width; d++) {
      const a = got[i * width + d], e = want[r * width + d], diff = Math.abs(a - e);
      if (!(diff <= STAGE_TOL * (1 + Math.abs(e)))) assert.unreachable(`${stage}: row ${r} column ${d}: ${a} vs ${e}`);
      abs = Math.max(abs, diff);
      sq += diff * diff;
      rel = Math.max(rel, diff / Math.max(Math.abs(e), 1e-3));
    }
  });
  return { stage, abs, rel, rms: Math.sqrt(sq / got.length) };
}

interface Expected { results: { image: string; score: number; logits: number[] }[] }
const expected = (checkpoint: string): Expected => JSON.parse(readFileSync(fixture(`expected/${checkpoint}.json`), 'utf8'));

test('every stage of grad_512x384.png matches the float32 fixture (tiny_koniq_s0)', async () => {
  const npz = await openFixture('intermediates/tiny_koniq_s0__grad_512x384_png.npz');
  const { input, rows } = unpack(await npz.readF32('input_packed_hwc'));
  assert.is(input.tokens, 342); // spec §2.8 table: 42 + 108 + 192
  const out = referenceForward(await loadParams('checkpoints/tiny_koniq_s0.npz'), input, { keepStages: true });
  const s = out.stages!;
  assert.is(s.layers.length, 2);
  const D = 64;
  const withCls = [0, ...rows.map((r) => r + 1)]; // encoder tensors have CLS as row 0
  const worst = [
    compareRows('patch_embedding', s.patchEmbedding, await npz.readF32('patch_embedding'), rows, D),
    compareRows('encoder_input', s.encoderInput, await npz.readF32('encoder_input'), withCls, D),
    compareRows('encoder_layer_0', s.layers[0], await npz.readF32('encoder_layer_0'), withCls, D),
    compareRows('encoder_layer_1', s.layers[1], await npz.readF32('encoder_layer_1'), withCls, D),
    compareRows('encoder_norm_out', s.encoderNormOut, await npz.readF32('encoder_norm_out'), withCls, D),
  ];
  for (const w of worst) console.log(`  ${w.stage}: max abs ${w.abs.toExponential(2)}, max rel ${w.rel.toExponential(2)}, rms ${w.rms.toExponential(2)}`);
  const logits = await npz.readF32('logits'), score = (await npz.readF32('score'))[0];
  assert.is(out.logits.length, 1);
  assert.ok(Math.abs(out.logits[0] - logits[0]) <= LOGIT_TOL, `logit ${out.logits[0]} vs ${logits[0]}`);
  assert.ok(Math.abs(out.score - score) <= LOGIT_TOL, `score ${out.score} vs ${score}`);
  const json = expected('tiny_koniq_s0').results.find((r) => r.image === 'images/grad_512x384.png')!;
  assert.ok(Math.abs(out.score - json.score) <= LOGIT_TOL, `score ${out.score} vs expected JSON ${json.score}`);
  console.log(`  score ${out.score} vs ${score} (diff ${(out.score - score).toExponential(2)})`);
});

test('scoreFromLogits: raw single logit, AVA expectation over 1..10, NaN otherwise', () => {
  assert.is(scoreFromLogits([42.5]), 42.5);
  assert.ok(Math.abs(scoreFromLogits(new Array(10).fill(3)) - 5.5) < 1e-12);
  const peaked = new Array(10).fill(-1000);
  peaked[6] = 1000; // softmax is one-hot on class 7
  assert.is(scoreFromLogits(peaked), 7);
  // softmax(0, ln 3) over classes 1 and 2 only: 1·0.25 + 2·0.75
  const two = new Array(10).fill(-Infinity);
  two[0] = 0;
  two[1] = Math.log(3);
  assert.ok(Math.abs(scoreFromLogits(two) - 1.75) < 1e-12);
  assert.ok(Number.isNaN(scoreFromLogits(new Array(1000).fill(0))));
});

/** A few random valid tokens. */
function randomInput(tokens: number, seed: number): RefInput {
  const r = mulberry32(seed);
  return {
    tokens,
    patches: randomArray(tokens * PIXELS, seed),
    spatial: Uint32Array.from({ length: tokens }, () => Math.floor(r() * 100)),
    scaleIds: Uint32Array.from({ length: tokens }, () => Math.floor(r() * 3)),
  };
}

test('the CLS output does not depend on token order (no index-dependent position anywhere)', async () => {
  const params = await loadParams('checkpoints/tiny_ava_s0.npz');
  const a = randomInput(5, 7);
  const order = [3, 0, 4, 1, 2];
  const b: RefInput = {
    tokens: 5,
    patches: new Float32Array(5 * PIXELS),
    spatial: Uint32Array.from(order, (i) => a.spatial[i]),
    scaleIds: Uint32Array.from(order, (i) => a.scaleIds[i]),
  };
  order.forEach((i, t) => b.patches.set(a.patches.subarray(i * PIXELS, (i + 1) * PIXELS), t * PIXELS));
  const ra = referenceForward(params, a), rb = referenceForward(params, b);
  assert.is(ra.logits.length, 10);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(ra.logits[i] - rb.logits[i]) < 1e-12); // float64 summation-order noise only
  assert.ok(ra.score >= 1 && ra.score <= 10);
  // A lone CLS token (no patches) is a valid, finite input.
  assert.ok(Number.isFinite(referenceForward(params, randomInput(0, 1)).score));
});

test('bad parameters and inputs give one-line MusiqErrors', async () => {
  const params = await loadParams('checkpoints/tiny_koniq_s0.npz');
  const good = randomInput(2, 3);
  const without = (missing: string): RefParams => ({
    get(k) {
      if (k === missing) throw new Error(`no ${k}`);
      return params.get(k);
    },
  });
  throwsMusiq(() => referenceForward(without('block1/unit1/gn2/scale'), good), /missing parameter "block1\/unit1\/gn2\/scale"/);
  const reshaped: RefParams = { get: (k) => (k === 'head/bias' ? { shape: [2], data: new Float32Array(2) } : params.get(k)) };
  throwsMusiq(() => referenceForward(reshaped, good), /"head\/bias" has shape \(2\)/);
  throwsMusiq(() => referenceForward(params, { ...good, spatial: Uint32Array.of(3, 100) }), /spatial index 100/);
  throwsMusiq(() => referenceForward(params, { ...good, scaleIds: Uint32Array.of(3, 0) }), /scale id 3/);
  throwsMusiq(() => referenceForward(params, { ...good, patches: good.patches.subarray(1) }), /patch values/);
});

// Decode → preprocess → reference on every PNG fixture image, both checkpoints, against the scores of
// the independent implementation. The two tiny checkpoints share every tensor but the head (asserted),
// so the AVA scores come from the AVA head on the KonIQ run's CLS output, halving the CPU time; the
// AVA path of referenceForward itself runs in full on one image. checker_1024x768 (918 tokens, ~4 s of
// CPU, 10 s on the shared test machine) doubles the time of this file, so it only runs with
// MUSIQ_REF_ALL=1 (it passed: diffs 4.7e-7 KonIQ, 7.1e-7 AVA).
const SLOW_IMAGES = ['images/checker_1024x768.png'];
async function checkPngImages(pick: (image: string) => boolean): Promise<void> {
  const koniq = await loadParams('checkpoints/tiny_koniq_s0.npz'), ava = await loadParams('checkpoints/tiny_ava_s0.npz');
  const koniqNpz = await openFixture('checkpoints/tiny_koniq_s0.npz');
  for (const m of koniqNpz.members) {
    const key = m.name.slice('opt/target/'.length);
    if (!key.startsWith('head/')) assert.equal(ava.get(key).data, koniq.get(key).data, `${key} differs between the checkpoints`);
  }
  const avaHead = { w: ava.get('head/kernel').data, b: ava.get('head/bias').data };
  const want = { koniq: expected('tiny_koniq_s0').results, ava: expected('tiny_ava_s0').results };
  const images = want.koniq.map((r) => r.image).filter((name) => name.endsWith('.png'));
  assert.ok(images.length >= 6, 'the expected JSON lists the PNG fixtures');
  for (const image of images.filter(pick)) {
    const input = preprocess(decodeImage(readFileSync(fixture(image)), image));
    const t0 = performance.now();
    const out = referenceForward(koniq, input);
    const avaLogits = Array.from({ length: 10 }, (_, c) => avaHead.b[c] + out.cls.reduce((s, v, d) => s + v * avaHead.w[d * 10 + c], 0));
    const scores = { koniq: out.score, ava: scoreFromLogits(avaLogits) };
    const ms = performance.now() - t0;
    if (image.includes('tiny_31x47')) {
      const full = referenceForward(ava, input); // the whole AVA path once, not just its head
      assert.ok(Math.abs(full.score - scores.ava) < 1e-12, `AVA score ${full.score} vs head-only ${scores.ava}`);
    }
    for (const ckpt of ['koniq', 'ava'] as const) {
      const expect = want[ckpt].find((r) => r.image === image)!.score;
      const diff = scores[ckpt] - expect;
      console.log(`  ${image} ${ckpt}: ${scores[ckpt].toFixed(7)} vs ${expect.toFixed(7)} (diff ${diff.toExponential(2)}), ${input.tokens} tokens, ${ms.toFixed(0)} ms`);
      assert.ok(Math.abs(diff) <= SCORE_TOL, `${image} ${ckpt}: ${scores[ckpt]} vs ${expect}`);
    }
  }
}

test('decode → preprocess → reference matches the expected scores of every PNG image, both checkpoints', () => checkPngImages((image) => !SLOW_IMAGES.includes(image)));

test(`the same for ${SLOW_IMAGES.join(', ')} (slow: MUSIQ_REF_ALL=1)`, async () => {
  if (!process.env.MUSIQ_REF_ALL) return skip('slow', `${SLOW_IMAGES.join(', ')} through the float64 reference is slow; set MUSIQ_REF_ALL=1 to run it`);
  await checkPngImages((image) => SLOW_IMAGES.includes(image));
});

test.run();
