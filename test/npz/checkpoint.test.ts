// The MUSIQ view: dims and variant read from the shapes, exact parameter counts (spec §4.2),
// optional pre_logits (§3.7), and one error that lists every problem of a broken checkpoint.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkpointKeys, openCheckpoint, CheckpointError, type MusiqDims } from '../../src/musiq/checkpoint.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { writeNpz, type NpyMember } from '../../src/npz/writer.ts';
import { CONFIGS, syntheticMembers } from '../../tools/write-checkpoint.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { rejects } from './util.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/checkpoints/${name}`, import.meta.url))));
const tinyDims = (numClasses: number): MusiqDims => ({ hidden: 64, layers: 2, heads: 2, headDim: 32, mlp: 128, stemWidth: 32, numClasses, numScales: 3, posGrid: 10, preLogits: 0 });
const open = (members: NpyMember[], name = 'c.npz') => openCheckpoint(bytesSource(name, writeNpz(members)));

for (const [file, numClasses, variant, parameters] of [['tiny_koniq_s0.npz', 1, 'quality', 621_985], ['tiny_ava_s0.npz', 10, 'ava', 622_570]] as const) {
  test(`shared fixture ${file}: ${variant}, tiny dims, ${parameters} parameters`, async () => {
    const ckpt = await openCheckpoint(bytesSource(file, fixture(file)));
    assert.is(ckpt.variant, variant);
    assert.equal(ckpt.dims, tinyDims(numClasses));
    assert.equal([ckpt.parameters, ckpt.bytes, ckpt.tensors.length, ckpt.ignored], [parameters, 4 * parameters, 56, []]);
    assert.equal(ckpt.tensors.map((t) => t.name), [...checkpointKeys(ckpt.dims).keys()]);
    const head = await ckpt.read('head/kernel');
    assert.is(head.length, 64 * numClasses);
    await rejects(() => ckpt.read('head/nope'), /no checkpoint tensor "head\/nope"/, MusiqError);
  });
}

test('full layout: 248 keys; 27,125,825 / 27,129,290 / 27,510,440 parameters for 1 / 10 / 1000 outputs (spec §4.2)', () => {
  for (const [c, n] of [[1, 27_125_825], [10, 27_129_290], [1000, 27_510_440]]) {
    const keys = checkpointKeys({ ...CONFIGS.full, numClasses: c });
    assert.is(keys.size, 248);
    assert.is([...keys.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0), n);
  }
  assert.equal(checkpointKeys({ ...CONFIGS.full, numClasses: 1 }).get('embedding/kernel'), [16384, 384]);
});

test('synthetic checkpoints: variant from the head, dims from the shapes', async () => {
  for (const [numClasses, variant] of [[1, 'quality'], [10, 'ava'], [1000, 'imagenet']] as const) {
    const ckpt = await open(syntheticMembers({ config: 'tiny', numClasses, extras: true }));
    assert.is(ckpt.variant, variant);
    assert.equal(ckpt.dims, tinyDims(numClasses));
    assert.is(ckpt.ignored.length, 57); // one momentum per tensor + the step counter
    assert.ok(ckpt.ignored.every((n) => n.startsWith('opt/state/')));
  }
  const odd = { ...CONFIGS.tiny, hidden: 96, layers: 3, heads: 3, headDim: 16, mlp: 200, stemWidth: 64, numScales: 1, posGrid: 7 };
  const ckpt = await open(syntheticMembers({ config: odd, numClasses: 1 }));
  assert.equal(ckpt.dims, { ...odd, numClasses: 1 });
});

test('pre_logits: a Dense before the head for imagenet; ignored (as GR-run does) for the IQA heads', async () => {
  const imagenet = await open(syntheticMembers({ config: { ...CONFIGS.tiny, preLogits: 48 }, numClasses: 1000 }));
  assert.is(imagenet.dims.preLogits, 48);
  assert.equal(imagenet.tensors.find((t) => t.name === 'head/kernel')!.shape, [48, 1000]);
  assert.ok(imagenet.tensors.some((t) => t.name === 'pre_logits/kernel'));
  const quality = await open(syntheticMembers({ config: { ...CONFIGS.tiny, preLogits: 64 }, numClasses: 1 }));
  assert.is(quality.dims.preLogits, 0);
  assert.equal(quality.ignored, ['opt/target/pre_logits/kernel', 'opt/target/pre_logits/bias']);
  assert.is(quality.tensors.length, 56);
});

test('every missing, unexpected, mis-shaped and non-float key in one error', async () => {
  const members = syntheticMembers({ config: 'tiny', numClasses: 1 })
    .filter((m) => !['opt/target/embedding/bias', 'opt/target/Transformer/encoderblock_1/LayerNorm_0/scale'].includes(m.name))
    .map((m) => (m.name.endsWith('encoderblock_0/MlpBlock_3/Dense_1/bias') ? { ...m, shape: [65], byteLength: 260, data: () => new Uint8Array(260) } : m))
    .map((m) => (m.name === 'opt/target/gn_root/scale' ? { ...m, descr: '<i4' } : m));
  members.push({ name: 'opt/target/foo/bar', descr: '<f4', shape: [1], byteLength: 4, data: () => new Uint8Array(4) });
  const e = (await rejects(() => open(members, 'broken.npz'), /^broken\.npz: not a usable MUSIQ checkpoint: /, CheckpointError)) as CheckpointError;
  assert.equal(e.problems, [
    'missing 2: embedding/bias, Transformer/encoderblock_1/LayerNorm_0/scale',
    'unexpected 1: foo/bar',
    'mis-shaped 1: Transformer/encoderblock_0/MlpBlock_3/Dense_1/bias is (65,), expected (64,)',
    "not float 1: gn_root/scale is '<i4'",
  ]);
  assert.not.match(e.message, /\n/);
});

test('an unknown head size, a stem width GroupNorm cannot split, a gap in the layers', async () => {
  await rejects(() => open(syntheticMembers({ config: 'tiny', numClasses: 5 })), /head has 5 outputs; expected 1 \(quality score\), 10 \(AVA\) or 1000 \(ImageNet\)/, CheckpointError);
  await rejects(() => open(syntheticMembers({ config: { ...CONFIGS.tiny, stemWidth: 48 }, numClasses: 1 })), /stem width 48 is not a multiple of the 32 GroupNorm groups/, CheckpointError);
  const gap = syntheticMembers({ config: { ...CONFIGS.tiny, layers: 3 }, numClasses: 1 }).filter((m) => !m.name.includes('encoderblock_1/'));
  await rejects(() => open(gap), /missing 16: Transformer\/encoderblock_1\/LayerNorm_0\/scale, /, CheckpointError);
});

test.run();
