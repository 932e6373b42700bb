// The CPU model (src/musiq/model.wasm.ts) against the float64 reference of the whole model and
// against the fixtures' independent scores. No GPU needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../../src/musiq/checkpoint.ts';
import { WasmModel } from '../../src/musiq/model.wasm.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { referenceForward, type RefParams } from '../../src/musiq/model.ref.ts';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

// As model.test.ts for the GPU: f32 against f64 through the tiny 2-layer model gives ~1e-6;
// 2e-5 relative to max(1, |value|) has margin and catches a real mistake (wrong layout, eps,
// padding, GELU form: ≥ 1e-4).
const TOL = 2e-5;
/** The independent implementation's scores: the spec's 5e-5. */
const FIXTURE_TOL = 5e-5;

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, `${what} length`);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= TOL)) assert.unreachable(`${what}[${i}]: cpu ${got[i]} vs ref ${want[i]} (rel ${err.toExponential(2)})`);
  }
}

async function load(name: string): Promise<{ model: WasmModel; params: RefParams; tensors: number; progress: number[] }> {
  const bytes = new Uint8Array(readFileSync(`${fixtures}checkpoints/${name}.npz`));
  const ckpt = await openCheckpoint(bytesSource(name, bytes));
  const map = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of ckpt.tensors) map.set(t.name, { shape: t.shape, data: await ckpt.read(t.name) });
  const progress: number[] = [];
  const model = await WasmModel.load(ckpt, (done) => progress.push(done));
  return { model, params: { get: (k) => map.get(k)! }, tensors: ckpt.tensors.length, progress };
}

/** The last block's CLS attention averaged over heads, in float64 from that block's input x (n × D). */
function refClsAttention(params: RefParams, x: Float64Array, n: number, block: number): Float64Array {
  const p = `Transformer/encoderblock_${block}`, a = `${p}/MultiHeadDotProductAttention_1`;
  const scale = params.get(`${p}/LayerNorm_0/scale`).data, bias = params.get(`${p}/LayerNorm_0/bias`).data;
  const D = scale.length;
  const [, H, Dh] = params.get(`${a}/query/kernel`).shape;
  const y = new Float64Array(n * D);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * D, (r + 1) * D);
    const mean = row.reduce((s, v) => s + v, 0) / D;
    const inv = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / D + 1e-6);
    for (let d = 0; d < D; d++) y[r * D + d] = (row[d] - mean) * inv * scale[d] + bias[d];
  }
  const project = (name: string, r: number, j: number) => {
    const w = params.get(`${a}/${name}/kernel`).data;
    let s = params.get(`${a}/${name}/bias`).data[j];
    for (let d = 0; d < D; d++) s += y[r * D + d] * w[d * H * Dh + j];
    return s;
  };
  const avg = new Float64Array(n);
  for (let h = 0; h < H; h++) {
    const q = Array.from({ length: Dh }, (_, d) => project('query', 0, h * Dh + d));
    const logits = Array.from({ length: n }, (_, t) => q.reduce((s, qd, d) => s + qd * project('key', t, h * Dh + d), 0) / Math.sqrt(Dh));
    const max = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    e.forEach((v, t) => (avg[t] += v / sum / H));
  }
  return avg;
}

for (const [name, image] of [
  ['tiny_koniq_s0', 'round_448x321.png'],
  ['tiny_ava_s0', 'tiny_31x47.png'],
  ['tiny_koniq_s0', 'tiny_31x47.png'],
] as const) {
  test(`CPU model = float64 reference: ${name} on ${image}, with the last layer's CLS attention`, async () => {
    const { model, params, tensors, progress } = await load(name);
    assert.equal(progress, Array.from({ length: tensors }, (_, i) => i + 1), 'one progress call per tensor');
    const input = preprocess(decodeImage(new Uint8Array(readFileSync(`${fixtures}images/${image}`)), image));
    const r = await model.forward(input, { attention: true });
    const ref = referenceForward(params, input, { keepStages: true });
    close(r.logits, ref.logits, 'logits');
    close(r.embedding, ref.cls, 'CLS embedding');
    if (ref.logits.length === 10) {
      const e = [...ref.logits].map((v) => Math.exp(v - Math.max(...ref.logits)));
      close(r.probabilities!, e.map((v) => v / e.reduce((a, b) => a + b)), 'probabilities');
    } else assert.is(r.probabilities, undefined);
    const stages = ref.stages!;
    close(r.clsAttention!, refClsAttention(params, stages.layers.length > 1 ? stages.layers.at(-2)! : stages.encoderInput, input.tokens + 1, stages.layers.length - 1), 'CLS attention');
    assert.ok(r.ms.stem >= 0 && r.ms.encoder >= 0);
    model.dispose();
    assert.ok(model.disposed);
    try {
      await model.forward(input);
      assert.unreachable('forward after dispose');
    } catch (e) {
      assert.match((e as Error).message, /after dispose/);
    }
  });
}

test('CPU model: images run concurrently (returning to the event loop between every step) give the results they give one at a time', async () => {
  const { model } = await load('tiny_koniq_s0');
  const inputs = ['round_448x321.png', 'tiny_31x47.png', 'small_64x64.png'].map((f) => preprocess(decodeImage(new Uint8Array(readFileSync(`${fixtures}images/${f}`)), f)));
  const alone = [];
  for (const input of inputs) alone.push([...(await model.forward(input, { sliceMs: 0 })).embedding]);
  const together = await Promise.all(inputs.map(async (input) => [...(await model.forward(input, { sliceMs: 0 })).embedding]));
  model.dispose();
  assert.equal(together, alone);
});

test('CPU model scores every fixture image within 5e-5 of the independent implementation', async () => {
  for (const name of ['tiny_koniq_s0', 'tiny_ava_s0']) {
    const { model } = await load(name);
    const expected = JSON.parse(readFileSync(`${fixtures}expected/${name}.json`, 'utf8')) as { results: { image: string; score: number }[] };
    assert.ok(expected.results.length >= 3);
    for (const { image, score } of expected.results) {
      const r = await model.forward(preprocess(decodeImage(new Uint8Array(readFileSync(fixtures + image)), image)));
      const got = r.logits.length === 10 ? r.probabilities!.reduce((s, p, i) => s + p * (i + 1), 0) : r.logits[0];
      assert.ok(Math.abs(got - score) <= FIXTURE_TOL * Math.max(1, Math.abs(score)), `${name} ${image}: ${got} vs ${score}`);
    }
    model.dispose();
  }
});

test.run();
