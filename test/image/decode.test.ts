// decodeImage: format sniffing with clear errors, and odd images (1×1, gray, alpha, 16-bit,
// palette) all the way through preprocessing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/image/decode.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { writePng } from './png-writer.ts';

const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

function refuses(bytes: Uint8Array, name: string, message: string): void {
  assert.throws(() => decodeImage(bytes, name), (e: Error) => e instanceof MusiqError && e.message === message);
}

test('non-PNG/JPEG files are named in a one-line error', () => {
  refuses(ascii('BM6\0\0\0\0\0\0\x006\0\0\0'), 'I03.bmp', 'I03.bmp: not a PNG or JPEG (looks like BMP)');
  refuses(ascii('GIF89a\x01\0\x01\0'), 'a.gif', 'a.gif: not a PNG or JPEG (looks like GIF)');
  refuses(ascii('RIFF\0\0\0\0WEBPVP8 '), 'a.webp', 'a.webp: not a PNG or JPEG (looks like WebP)');
  refuses(ascii('\0\0\0\x1cftypavif'), 'a.avif', 'a.avif: not a PNG or JPEG (looks like HEIF/AVIF)');
  refuses(ascii('hello world'), 'notes.txt', 'notes.txt: not a PNG or JPEG');
  refuses(new Uint8Array(0), 'empty.png', 'empty.png: empty file, not a PNG or JPEG');
});

test('PNG and JPEG are recognised by their bytes, whatever the name', () => {
  const png = new Uint8Array(readFileSync(new URL('../fixtures/images/tiny_31x47.png', import.meta.url)));
  const jpg = new Uint8Array(readFileSync(new URL('../fixtures/images/grad_512x384.jpg', import.meta.url)));
  assert.equal([decodeImage(png, 'x.jpg').width, decodeImage(jpg, 'x.png').width], [31, 512]);
});

/** Decodes and preprocesses; checks every token is finite and the native scale has the image's size. */
function throughPreprocess(bytes: Uint8Array, w: number, h: number) {
  const img = decodeImage(bytes, 'odd.png');
  assert.equal([img.width, img.height, img.data.length], [w, h, w * h * 3]);
  const input = preprocess(img);
  assert.ok(input.patches.every(Number.isFinite));
  assert.equal([input.scales[2].height, input.scales[2].width], [h, w]);
  return img;
}

test('1×1 PNG decodes and preprocesses', () => {
  const img = throughPreprocess(writePng({ width: 1, height: 1, colorType: 2, depth: 8, samples: new Uint16Array([9, 99, 199]) }), 1, 1);
  assert.equal([...img.data], [9, 99, 199]);
});

test('grayscale is replicated to RGB', () => {
  const img = throughPreprocess(new Uint8Array(readFileSync(new URL('../fixtures/images/gray_300x200.png', import.meta.url))), 300, 200);
  for (let i = 0; i < img.data.length; i += 3 * 997) assert.ok(img.data[i] === img.data[i + 1] && img.data[i] === img.data[i + 2]);
});

test('alpha is dropped, not composited', () => {
  const png = new PNG({ width: 2, height: 1 });
  png.data = Buffer.from([10, 20, 30, 0, 40, 50, 60, 128]); // fully and half transparent
  const img = throughPreprocess(new Uint8Array(PNG.sync.write(png)), 2, 1);
  assert.equal([...img.data], [10, 20, 30, 40, 50, 60]);
});

test('16-bit RGB keeps the high byte of each sample', () => {
  const img = throughPreprocess(writePng({ width: 1, height: 2, colorType: 2, depth: 16, samples: new Uint16Array([0xffff, 0x1280, 0x00ff, 0x8000, 0x7fff, 0x0100]) }), 1, 2);
  assert.equal([...img.data], [0xff, 0x12, 0x00, 0x80, 0x7f, 0x01]);
});

test('palette (4-bit, with tRNS) maps indices to colours', () => {
  const palette = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const img = throughPreprocess(writePng({ width: 3, height: 1, colorType: 3, depth: 4, samples: new Uint16Array([2, 0, 1]), palette, trns: new Uint8Array([0]) }), 3, 1);
  assert.equal([...img.data], [0, 0, 255, 255, 0, 0, 0, 255, 0]);
});

test.run();
