// What the writer writes, the reader reads back bit-exactly, and the writer's bytes follow the
// np.savez layout the reader must also meet in the real files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { fileSource } from '../../src/npz/source.node.ts';
import { writeNpz } from '../../src/npz/writer.ts';
import { main as writeCli, syntheticMembers } from '../../tools/write-checkpoint.ts';

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

for (const deflate of [false, true]) {
  test(`tiny synthetic checkpoint with extras, ${deflate ? 'deflated' : 'stored'}: every member back bit-exactly`, async () => {
    const members = syntheticMembers({ config: 'tiny', numClasses: 10, seed: 7, extras: true });
    const npz = await openNpz(bytesSource('rt.npz', writeNpz(members, { deflate })));
    assert.equal(npz.members.map((m) => m.name), members.map((m) => m.name));
    for (const m of members) {
      const info = npz.get(m.name)!;
      assert.equal([info.descr, info.shape, info.method], [m.descr, m.shape, deflate ? 'deflate' : 'stored'], m.name);
      if (m.descr === '<V2') {
        assert.is(info.decodable, false);
        continue;
      }
      const got = await npz.read(m.name);
      assert.equal(bytesOf(got.data), m.data(), m.name); // data() is deterministic: same seed, same bytes
    }
  });
}

test('layout: local headers 0xFFFFFFFF + zip64 extra, 32-bit central sizes, data 64-aligned in the member', () => {
  const file = writeNpz(syntheticMembers({ config: 'tiny', numClasses: 1 }));
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.is(dv.getUint32(0, true), 0x04034b50);
  assert.equal([dv.getUint32(18, true), dv.getUint32(22, true)], [0xffffffff, 0xffffffff]);
  const nameLen = dv.getUint16(26, true);
  assert.equal([dv.getUint16(28, true), dv.getUint16(30 + nameLen, true), dv.getUint16(32 + nameLen, true)], [20, 1, 16]);
  const realSize = dv.getUint32(34 + nameLen, true);
  const npy = 30 + nameLen + 20;
  assert.is(dv.getUint8(npy), 0x93);
  const headerLen = 10 + dv.getUint16(npy + 8, true);
  assert.is(headerLen % 64, 0);
  const eocd = file.length - 22;
  const cd = dv.getUint32(eocd + 16, true);
  assert.equal([dv.getUint32(cd, true), dv.getUint32(cd + 20, true), dv.getUint32(cd + 24, true), dv.getUint16(cd + 30, true)], [0x02014b50, realSize, realSize, 0]);
});

test('the CLI streams a file that reads back like the in-memory one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'musiq-npz-'));
  const log = console.log;
  try {
    console.log = () => {};
    assert.is(await writeCli([join(dir, 'c.npz'), '--tiny', '--classes', '1000', '--seed', '3', '--deflate']), 0);
    console.log = log;
    const src = await fileSource(join(dir, 'c.npz'));
    const npz = await openNpz(src);
    const expected = syntheticMembers({ config: 'tiny', numClasses: 1000, seed: 3 });
    assert.is(npz.members.length, expected.length);
    for (const m of expected) assert.equal(bytesOf((await npz.read(m.name)).data), m.data(), m.name);
    await src.close!();
    assert.is(await writeCli([join(dir, 'x.npz'), '--classes', '7']), 1);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true });
  }
});

test.run();
