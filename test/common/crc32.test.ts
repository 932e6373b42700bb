// CRC-32 against the standard check value and node:zlib's implementation, over every alignment
// and tail length the word-sliced loop distinguishes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import * as zlib from 'node:zlib';
import { crc32 } from '../../src/common/crc32.ts';
import { mulberry32 } from '../../tools/random.ts';

test('check value of "123456789" is 0xCBF43926', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
});

test('matches node:zlib for offsets 0..4 and lengths 0..80, and chains', () => {
  const zcrc = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  if (!zcrc) return skip('zlib-crc32', 'node:zlib has no crc32 before Node 20.15');
  const r = mulberry32(9);
  const buf = new Uint8Array(4096).map(() => Math.floor(r() * 256));
  for (let off = 0; off < 5; off++) {
    for (let n = 0; n <= 80; n++) {
      const s = buf.subarray(off, off + n);
      assert.is(crc32(s), zcrc(s), `offset ${off} length ${n}`);
      const cut = n >> 1;
      assert.is(crc32(s.subarray(cut), crc32(s.subarray(0, cut))), zcrc(s));
    }
  }
  assert.is(crc32(buf.subarray(3)), zcrc(buf.subarray(3)));
});

test.run();
