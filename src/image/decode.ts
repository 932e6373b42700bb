// Encoded image bytes → 8-bit RGB, as the original pipeline sees them (spec §2.1): TF's
// decode_jpeg accepts JPEG and PNG by their magic bytes. We drop alpha and replicate gray to
// RGB (the original hard-codes 3 channels), and ignore EXIF orientation and ICC profiles as TF does.
import { MusiqError } from '../common/errors.ts';
import { decodePng } from './png.ts';
import { decodeJpeg } from './jpeg.ts';
import type { RgbImage } from './rgb-image.ts';


function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Formats we recognise only to name them in the error. */
const OTHER_FORMATS: [string, (b: Uint8Array) => boolean][] = [
  ['BMP', (b) => startsWith(b, ascii('BM'))],
  ['GIF', (b) => startsWith(b, ascii('GIF8'))],
  ['WebP', (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)],
  ['TIFF', (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])],
  ['HEIF/AVIF', (b) => startsWith(b, ascii('ftyp'), 4)],
  ['JPEG 2000', (b) => startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51])],
  ['JPEG XL', (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])],
  ['QOI', (b) => startsWith(b, ascii('qoif'))],
  ['PNM', (b) => b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x37],
];

export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return decodePng(bytes, name);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpeg(bytes, name);
  if (bytes.length === 0) throw new MusiqError(`${name}: empty file, not a PNG or JPEG`);
  const other = OTHER_FORMATS.find(([, test]) => test(bytes));
  throw new MusiqError(`${name}: not a PNG or JPEG${other ? ` (looks like ${other[0]})` : ''}`);
}
