// Broken, lying and foreign inputs: each is an NpzError (one line, naming the file), never a
// crash, a wrong value or a huge allocation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { fileSource } from '../../src/npz/source.node.ts';
import { writeNpz, type NpyMember } from '../../src/npz/writer.ts';
import { openCheckpoint, CheckpointError } from '../../src/musiq/checkpoint.ts';
import { rejects } from './util.ts';

const f32 = (name: string, shape: number[], descr = '<f4'): NpyMember => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(new Float32Array(n).map((_, i) => i + 0.5).buffer);
  return { name, descr, shape, byteLength: data.length, data: () => data };
};
const small = (deflate = false) => writeNpz([f32('a', [2, 3]), f32('b', [5])], { deflate });
const open = (bytes: Uint8Array, name = 'bad.npz') => openNpz(bytesSource(name, bytes));
async function readAll(bytes: Uint8Array): Promise<void> {
  const npz = await open(bytes);
  for (const m of npz.members) await npz.read(m.name);
}
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
/** Offset of the central directory entry of the i-th member. */
const central = (b: Uint8Array, i: number) => {
  let p = dv(b).getUint32(b.length - 22 + 16, true);
  for (let k = 0; k < i; k++) p += 46 + dv(b).getUint16(p + 28, true) + dv(b).getUint16(p + 30, true) + dv(b).getUint16(p + 32, true);
  return p;
};
const patched = (b: Uint8Array, f: (d: DataView, copy: Uint8Array) => void) => {
  const c = b.slice();
  f(dv(c), c);
  return c;
};
const replaceText = (b: Uint8Array, from: string, to: string) => patched(b, (_, c) => c.set([...to].map((ch) => ch.charCodeAt(0)), latin1(b).indexOf(from)));

test('the valid base case opens and reads', async () => {
  const npz = await open(small());
  assert.equal([...(await npz.readF32('b'))], [0.5, 1.5, 2.5, 3.5, 4.5]);
});

test('empty file, directory, missing file, permission-free foreign files', async () => {
  await rejects(() => open(new Uint8Array(0), 'empty.npz'), /^empty\.npz: empty file$/);
  const dir = mkdtempSync(join(tmpdir(), 'musiq-npz-'));
  try {
    await rejects(() => fileSource(dir), /is a directory, not a file/);
    await rejects(() => fileSource(join(dir, 'missing.npz')), /missing\.npz: no such file/);
  } finally {
    rmSync(dir, { recursive: true });
  }
  await rejects(() => open(new TextEncoder().encode('{"this": "is json, not a zip"}\n'.repeat(3))), /not a zip\/\.npz file/);
  await rejects(() => open(new Uint8Array(10)), /not a zip\/\.npz file \(only 10 bytes\)/);
  const npy = small().subarray(30 + 5 + 20, 30 + 5 + 20 + 128 + 24); // the bare .npy of member a
  await rejects(() => open(npy), /a single \.npy array, not an \.npz archive/);
});

test('truncated at every offset: an NpzError each time', async () => {
  for (const b of [small(), small(true)]) {
    for (let cut = 1; cut < b.length; cut++) await rejects(() => readAll(b.subarray(0, cut)), /bad\.npz: /);
  }
});

test('central directory pointing outside the file, or too small for its entry count', async () => {
  const b = small(), end = b.length - 22;
  await rejects(() => open(patched(b, (d) => d.setUint32(end + 16, b.length + 100, true))), /central directory .* lies outside the file/);
  await rejects(() => open(patched(b, (d) => d.setUint32(end + 12, 0x7fffffff, true))), /central directory .* lies outside the file/);
  await rejects(() => open(patched(b, (d) => (d.setUint16(end + 8, 60000, true), d.setUint16(end + 10, 60000, true)))), /cannot hold 60000 entries/);
});

test('sizes and offsets that lie', async () => {
  const b = small(), c0 = central(b, 0);
  await rejects(() => open(patched(b, (d) => (d.setUint32(c0 + 20, 1e9, true), d.setUint32(c0 + 24, 1e9, true)))), /member "a\.npy" \(1000000000 bytes at 0\) lies outside/);
  await rejects(() => open(patched(b, (d) => d.setUint32(c0 + 24, 100, true))), /stored but its sizes disagree/);
  await rejects(() => open(patched(b, (d) => d.setUint32(central(b, 1) + 42, 7, true))), /no local header at offset 7/);
  // zip64: a central size of 0xFFFFFFFF without the extra field that should hold the real one
  await rejects(() => open(patched(b, (d) => (d.setUint32(c0 + 20, 0xffffffff, true), d.setUint32(c0 + 24, 0xffffffff, true)))), /zip64 sizes missing/);
  const z = small(true), z0 = central(z, 0), packed = dv(z).getUint32(z0 + 20, true);
  await rejects(() => open(patched(z, (d) => d.setUint32(z0 + 24, packed * 2000, true))), /more than deflate can produce/);
  // Within what deflate could produce but not what this stream does: found when the member is read.
  const real = dv(z).getUint32(z0 + 24, true);
  await rejects(() => open(patched(z, (d) => d.setUint32(z0 + 24, real - 4, true))), /data is 20 bytes, but shape \(2, 3\) of '<f4' needs 24/);
  await rejects(() => readAll(patched(z, (d) => d.setUint32(z0 + 24, real + 4, true))), /inflates to \d+ bytes, not the \d+/);
});

test('a garbage .npy header, bad magic, or data shorter than the shape needs', async () => {
  const b = small();
  await rejects(() => open(replaceText(b, "'shape': (2, 3)", "'shape': (2, ?)")), /member "a": garbage \.npy header/);
  await rejects(() => open(replaceText(b, "'descr'", "'d'scr'")), /member "a": garbage \.npy header/);
  await rejects(() => open(replaceText(b, 'NUMPY', 'NUMPI')), /member "a": not a \.npy array \(bad magic\)/);
  await rejects(() => open(replaceText(b, "'shape': (2, 3)", "'shape': (9, 3)")), /member "a": data is 24 bytes, but shape \(9, 3\) of '<f4' needs 108/);
  for (const z of [small(true)]) await rejects(() => open(patched(z, (d, c) => c.fill(0x55, 30 + 5 + 20 + 2, 30 + 5 + 20 + 40))), /member "a": (corrupt deflate data|not a \.npy|garbage)/);
});

test('a flipped data bit is a CRC error, not a wrong weight', async () => {
  const b = small();
  const at = latin1(b).indexOf('NUMPY') + 127; // last byte of member a's first float
  await rejects(() => readAll(patched(b, (_, c) => (c[at] ^= 0x01))), /member "a": CRC mismatch/);
});

test('unsupported dtypes are listed, and only reading them fails', async () => {
  const ok = await open(writeNpz([{ ...f32('c', [2]), descr: '<c8', shape: [1] }, f32('a', [3])])); // 8 bytes = one complex64
  assert.equal([ok.get('c')!.decodable, ok.get('c')!.dtype], [false, null]);
  await rejects(() => ok.read('c'), /member "c" has dtype '<c8', which this reader lists but does not decode/);
});

test('unsupported compression method, encryption, duplicate names, non-.npy members', async () => {
  const b = small(), c0 = central(b, 0);
  await rejects(() => open(patched(b, (d) => d.setUint16(c0 + 10, 12, true))), /uses compression method 12/);
  await rejects(() => open(patched(b, (d) => d.setUint16(c0 + 8, 1, true))), /is encrypted/);
  await rejects(() => open(writeNpz([f32('a', [2]), f32('a', [2])])), /duplicate member "a\.npy"/);
  const plain = zipSync({ 'readme.txt': new TextEncoder().encode('hello') });
  await rejects(() => open(plain, 'plain.zip'), /^plain\.zip: member "readme\.txt" is not a \.npy array, so this is not an \.npz file$/);
});

test('a valid .npz that is not a checkpoint', async () => {
  await rejects(() => openCheckpoint(bytesSource('arrays.npz', small())), /^arrays\.npz: not a usable MUSIQ checkpoint: no opt\/target\/ members \(2 members: a, b\)$/, CheckpointError);
});

test('an archive comment, even one holding an end-record signature, is skipped', async () => {
  const b = small();
  const comment = new TextEncoder().encode('comment PK\x05\x06 with a fake end record signature');
  const c = new Uint8Array(b.length + comment.length);
  c.set(b);
  c.set(comment, b.length);
  dv(c).setUint16(b.length - 2, comment.length, true);
  const npz = await open(c);
  assert.equal([...(await npz.readF32('a'))], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
});

test.run();
