// Files written by numpy itself (test/fixtures/npz/make-fixtures.py says how) through every source
// kind: np.savez (zip64 local headers), np.savez_compressed (deflate), a non-seekable np.savez
// (data descriptors) and Info-ZIP -fz (zip64 end records, directory entries, comment, .npy v2/v3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openNpz, type Npz } from '../../src/npz/npz.ts';
import { blobSource, bytesSource, type ByteSource } from '../../src/npz/source.ts';
import { fileSource } from '../../src/npz/source.node.ts';
import { rejects } from './util.ts';

const dir = fileURLToPath(new URL('../fixtures/npz/', import.meta.url));
const sources: Record<string, (f: string) => Promise<ByteSource>> = {
  bytes: async (f) => bytesSource(f, readFileSync(dir + f)),
  blob: async (f) => blobSource(f, new Blob([readFileSync(dir + f)])),
  file: (f) => fileSource(dir + f),
};
const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const a24 = range(24, (i) => i / 8 - 1);

async function check(npz: Npz, name: string, shape: number[], values: number[], ctor: Function): Promise<void> {
  const a = await npz.read(name);
  assert.equal(a.shape, shape, name);
  assert.instance(a.data, ctor, name);
  assert.equal([...a.data], values, name);
}

for (const [kind, open] of Object.entries(sources)) {
  test(`np.savez, every dtype (${kind} source)`, async () => {
    const src = await open('numpy_savez.npz');
    const npz = await openNpz(src);
    assert.equal(npz.members.map((m) => m.name), ['f4', 'f4_be', 'f8', 'f8_be', 'f2', 'f2_be', 'u1', 'b1', 'i4', 'i4_be', 'fortran', 'scalar', 'vector', 'empty', 'bf16', 'structured', 'opt/target/nested/key']);
    assert.ok(npz.members.every((m) => m.method === 'stored' && m.headerLength % 64 === 0));
    await check(npz, 'f4', [2, 3, 4], a24, Float32Array);
    await check(npz, 'f4_be', [2, 3, 4], a24, Float32Array);
    await check(npz, 'f8', [2, 3], range(6, (i) => i / 3), Float64Array);
    await check(npz, 'f8_be', [2, 3], range(6, (i) => i / 3), Float64Array);
    assert.equal([...(await npz.readF32('f8'))], range(6, (i) => Math.fround(i / 3)));
    assert.match(npz.get('f8')!.note!, 'rounded to float32');
    const halves = [0, 1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity];
    await check(npz, 'f2', [8], halves, Float32Array);
    await check(npz, 'f2_be', [8], halves, Float32Array);
    await check(npz, 'u1', [256], range(256), Uint8Array);
    await check(npz, 'b1', [3], [1, 0, 1], Uint8Array);
    const ints = [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1];
    await check(npz, 'i4', [5], ints, Int32Array);
    await check(npz, 'i4_be', [5], ints, Int32Array);
    assert.ok(npz.get('fortran')!.fortranOrder);
    await check(npz, 'fortran', [2, 3, 4], range(24), Float32Array);
    await check(npz, 'scalar', [], [3.5], Float32Array);
    await check(npz, 'vector', [5], range(5), Float32Array);
    await check(npz, 'empty', [0, 3], [], Float32Array);
    await check(npz, 'opt/target/nested/key', [3], range(3), Float32Array);
    // Listed, not decoded: bfloat16 saved as void, and a structured dtype.
    const bf16 = npz.get('bf16')!;
    assert.equal([bf16.descr, bf16.shape, bf16.decodable, bf16.byteLength], ['|V2', [4], false, 8]);
    assert.equal([npz.get('structured')!.decodable, npz.get('structured')!.descr], [false, '[["a","<f4"],["b","<i4"]]']);
    await rejects(() => npz.read('bf16'), /'\|V2'.*does not decode/);
    await rejects(() => npz.read('nope'), /no member "nope"/);
    await src.close?.();
  });

  for (const file of ['numpy_savez_compressed.npz', 'numpy_stream.npz']) {
    test(`${file} (${kind} source)`, async () => {
      const src = await open(file);
      const npz = await openNpz(src);
      assert.equal(npz.members.map((m) => m.method), range(5).map(() => (file.includes('compressed') ? 'deflate' : 'stored')));
      await check(npz, 'f4', [2, 3, 4], a24, Float32Array);
      await check(npz, 'f8', [2, 3], range(6, (i) => i / 3), Float64Array);
      await check(npz, 'fortran', [2, 3, 4], range(24), Float32Array);
      await check(npz, 'vector', [5], range(5), Float32Array);
      await check(npz, 'u1', [256], range(256), Uint8Array);
      await src.close?.();
    });
  }

  test(`zip -fz: zip64 end records, comment, directory entries, .npy v1/v2/v3 (${kind} source)`, async () => {
    const src = await open('zip64_comment.npz');
    const npz = await openNpz(src);
    assert.equal(npz.members.map((m) => m.name), ['opt/target/v2', 'opt/target/v3', 'opt/target/v1']);
    for (const v of [1, 2, 3]) await check(npz, `opt/target/v${v}`, [5], range(5, (i) => i * v), Float32Array);
    await src.close?.();
  });
}

test('np.savez from a newer Python (real sizes in local headers + zip64 extra): the shared tiny checkpoint', async () => {
  const npz = await openNpz(await sources.bytes('../checkpoints/tiny_koniq_s0.npz'));
  assert.is(npz.members.length, 56);
  // Printed by numpy: d['opt/target/Transformer/cls'].ravel()[:3], and for embedding/kernel its
  // last two values and the float64 sum of all 524,288 (a sum in f64 of f32 values: order changes
  // it by far less than 1e-9).
  const cls = await npz.readF32('opt/target/Transformer/cls');
  assert.equal([...cls.subarray(0, 3)], [0.06286510825157166, -0.06605242937803268, 0.3202113211154938]);
  const k = await npz.readF32('opt/target/embedding/kernel');
  assert.equal([k.length, k[k.length - 2], k[k.length - 1]], [8192 * 64, -0.021517107263207436, -0.01417757011950016]);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 11.75394283407108) < 1e-9);
});

test.run();
