// JPEG → 8-bit RGB with pixels identical to libjpeg-turbo's `djpeg -dct fast` (fast integer IDCT,
// fancy upsampling), which is how TF's decode_jpeg decodes with its defaults (spec §2.1). This
// file reads the markers and drives the other parts: jpeg-huffman.ts/jpeg-scan.ts (entropy
// decoding), jpeg-idct.ts (IFAST IDCT) and jpeg-color.ts (upsampling, YCbCr→RGB). All of it is
// written here: jpeg-js uses a float IDCT and box upsampling, up to 94 levels away from libjpeg.
// Supported: baseline, extended-sequential and progressive Huffman JPEGs with 8-bit samples,
// 1 (gray) or 3 (YCbCr/RGB) components, any integral sampling factors, restart intervals.
import { MusiqError } from '../common/errors.ts';
import type { RgbImage } from './rgb-image.ts';
import { checkDimensions } from './image-size.ts';
import { buildHuffmanTable, type HuffmanTable } from './jpeg-huffman.ts';
import { decodeScan, ZIGZAG_TO_NATURAL, type Component, type Frame } from './jpeg-scan.ts';
import { idctIfast, ifastMultipliers } from './jpeg-idct.ts';
import { planesToRgb, type JpegColorSpace, type Plane } from './jpeg-color.ts';

const SOF_KIND: Record<number, string> = {
  0xc3: 'lossless', 0xc5: 'hierarchical', 0xc6: 'hierarchical', 0xc7: 'hierarchical',
  0xc9: 'arithmetic-coded', 0xca: 'arithmetic-coded', 0xcb: 'arithmetic-coded',
  0xcd: 'arithmetic-coded', 0xce: 'arithmetic-coded', 0xcf: 'arithmetic-coded',
};

export function decodeJpeg(bytes: Uint8Array, name = 'image.jpg'): RgbImage {
  const fail = (why: string): never => {
    throw new MusiqError(`${name}: corrupt JPEG: ${why}`);
  };
  const unsupported = (what: string): never => {
    throw new MusiqError(`${name}: unsupported JPEG (${what})`);
  };
  const u16 = (p: number) => (bytes[p] << 8) | bytes[p + 1];

  const quant: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  /** Each component's quantisation table, latched when it first appears in a scan (as libjpeg does). */
  const latched = new Map<Component, Uint16Array>();
  let frame: Frame | undefined;
  let restartInterval = 0;
  let jfif = false;
  let adobeTransform = -1;
  let sawEoi = false;

  let p = 2;
  while (p < bytes.length && !sawEoi) {
    // Find the next marker; libjpeg skips (with a warning) garbage bytes and 0xFF fill bytes.
    while (p < bytes.length && bytes[p] !== 0xff) p++;
    while (p < bytes.length && bytes[p] === 0xff) p++;
    if (p >= bytes.length) break;
    const marker = bytes[p++];
    if (marker === 0xd9) {
      sawEoi = true;
      break;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xd8) continue; // no length
    if (p + 2 > bytes.length) fail('truncated marker segment');
    const len = u16(p);
    const end = p + len;
    if (len < 2 || end > bytes.length) fail(`marker 0xFF${marker.toString(16).toUpperCase()} segment of ${len} bytes runs past the end of the file (truncated)`);
    const seg = p + 2;

    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (frame) fail('more than one frame header (SOF)');
      frame = readFrame(bytes, seg, end, marker === 0xc2, name, fail, unsupported);
    } else if (SOF_KIND[marker]) {
      unsupported(`${SOF_KIND[marker]} JPEG, SOF${marker - 0xc0}`);
    } else if (marker === 0xc4) {
      for (let q = seg; q < end; ) {
        const tc = bytes[q] >> 4, th = bytes[q] & 15;
        if (tc > 1 || th > 3 || q + 17 > end) fail('bad Huffman table definition (DHT)');
        const counts = bytes.subarray(q + 1, q + 17);
        const n = counts.reduce((a, b) => a + b, 0);
        if (n > 256 || q + 17 + n > end) fail('bad Huffman table definition (DHT)');
        const table = buildHuffmanTable(counts, bytes.subarray(q + 17, q + 17 + n), fail);
        (tc === 0 ? dcTables : acTables)[th] = table;
        q += 17 + n;
      }
    } else if (marker === 0xdb) {
      for (let q = seg; q < end; ) {
        const pq = bytes[q] >> 4, tq = bytes[q] & 15;
        const size = pq ? 128 : 64;
        if (pq > 1 || tq > 3 || q + 1 + size > end) fail('bad quantisation table definition (DQT)');
        const t = new Uint16Array(64);
        for (let k = 0; k < 64; k++) t[ZIGZAG_TO_NATURAL[k]] = pq ? u16(q + 1 + 2 * k) : bytes[q + 1 + k];
        quant[tq] = t;
        q += 1 + size;
      }
    } else if (marker === 0xdd) {
      if (len !== 4) fail('bad restart interval definition (DRI)');
      restartInterval = u16(seg);
    } else if (marker === 0xda) {
      if (!frame) return fail('scan (SOS) before the frame header (SOF)');
      const ns = bytes[seg];
      if (ns < 1 || ns > 4 || len !== 6 + 2 * ns) fail('bad scan header (SOS)');
      const comps: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const id = bytes[seg + 1 + 2 * i], sel = bytes[seg + 2 + 2 * i];
        const c = frame.components.find((x) => x.id === id);
        if (!c || comps.includes(c)) return fail(`scan refers to unknown or repeated component ${id}`);
        c.dcTable = dcTables[sel >> 4];
        c.acTable = acTables[sel & 15];
        if (!latched.has(c)) {
          const q = quant[c.tq];
          if (!q) fail(`component ${id} uses quantisation table ${c.tq}, which is not defined`);
          latched.set(c, q!);
        }
        comps.push(c);
      }
      const ps = seg + 1 + 2 * ns;
      const scan = { components: comps, ss: bytes[ps], se: bytes[ps + 1], ah: bytes[ps + 2] >> 4, al: bytes[ps + 2] & 15, restartInterval };
      checkScan(frame, scan, fail);
      p = decodeScan(bytes, end, frame, scan, name);
      continue;
    } else if (marker === 0xdc) {
      unsupported('DNL marker: image height defined after the first scan');
    } else if (marker === 0xe0) {
      // libjpeg counts a JFIF marker only with its full 14-byte header.
      if (len >= 16 && bytes[seg] === 0x4a && bytes[seg + 1] === 0x46 && bytes[seg + 2] === 0x49 && bytes[seg + 3] === 0x46 && bytes[seg + 4] === 0) jfif = true;
    } else if (marker === 0xee) {
      // "Adobe" APP14: its transform flag says whether 3 components are YCbCr (1) or RGB (0).
      if (len >= 14 && String.fromCharCode(...bytes.subarray(seg, seg + 5)) === 'Adobe') adobeTransform = bytes[seg + 11];
    }
    p = end;
  }
  if (!frame) return fail(`no frame header (SOF)${sawEoi ? '' : ' before the end of the file (truncated)'}`);
  const scanned = frame.components.filter((c) => latched.has(c));
  if (scanned.length < frame.components.length) fail(`file ends before every component has image data (truncated; EOI ${sawEoi ? 'present' : 'missing'})`);
  if (frame.progressive) checkFullyRefined(frame, unsupported);

  const space = colorSpace(frame, jfif, adobeTransform);
  const planes: Plane[] = frame.components.map((c) => {
    const stride = c.allocW * 8;
    const data = new Uint8Array(stride * c.allocH * 8);
    const mult = ifastMultipliers(latched.get(c)!);
    // Only the blocks that hold real samples are transformed; the MCU padding is never shown.
    for (let by = 0; by < c.blocksH; by++) {
      for (let bx = 0; bx < c.blocksW; bx++) idctIfast(c.coefs, (by * c.allocW + bx) * 64, mult, data, by * 8 * stride + bx * 8, stride);
    }
    return {
      data, stride,
      width: Math.ceil((frame!.width * c.h) / frame!.hmax),
      height: Math.ceil((frame!.height * c.v) / frame!.vmax),
      hr: frame!.hmax / c.h, vr: frame!.vmax / c.v,
    };
  });
  return { width: frame.width, height: frame.height, data: planesToRgb(planes, space, frame.width, frame.height, name) };
}

function readFrame(
  bytes: Uint8Array, seg: number, end: number, progressive: boolean, name: string,
  fail: (why: string) => never, unsupported: (what: string) => never,
): Frame {
  const precision = bytes[seg];
  const height = (bytes[seg + 1] << 8) | bytes[seg + 2], width = (bytes[seg + 3] << 8) | bytes[seg + 4];
  const n = bytes[seg + 5];
  if (end - seg !== 6 + 3 * n) fail('bad frame header (SOF) length');
  if (precision !== 8) unsupported(`${precision}-bit samples`);
  if (height === 0) unsupported('height 0 in the frame header (defined later by a DNL marker)');
  checkDimensions(width, height, name);
  if (n === 4) unsupported('4 components: CMYK/YCCK');
  if (n !== 1 && n !== 3) unsupported(`${n} colour components`);
  const raw = [...Array(n).keys()].map((i) => {
    const q = seg + 6 + 3 * i;
    const h = bytes[q + 1] >> 4, v = bytes[q + 1] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail(`sampling factors ${h}×${v}`);
    if (bytes[q + 2] > 3) fail(`quantisation table selector ${bytes[q + 2]}`);
    return { id: bytes[q], h, v, tq: bytes[q + 2] };
  });
  // A single-component image is always coded non-interleaved, one block per MCU (T.81 A.2.2).
  if (n === 1) raw[0].h = raw[0].v = 1;
  const hmax = Math.max(...raw.map((c) => c.h)), vmax = Math.max(...raw.map((c) => c.v));
  const mcusW = Math.ceil(width / (8 * hmax)), mcusH = Math.ceil(height / (8 * vmax));
  // Every block's DC coefficient takes at least one bit, so a file claiming more blocks than it
  // has bits is cut short (or forged); refuse it before allocating coefficients.
  const blocks = raw.reduce((n, c) => n + Math.ceil((width * c.h) / hmax / 8) * Math.ceil((height * c.v) / vmax / 8), 0);
  if (bytes.length * 8 < blocks) fail(`${bytes.length} bytes cannot hold ${width}×${height} pixels (truncated)`);
  const components = raw.map((c): Component => {
    const allocW = mcusW * c.h, allocH = mcusH * c.v;
    return {
      ...c, allocW, allocH,
      blocksW: Math.ceil(Math.ceil((width * c.h) / hmax) / 8),
      blocksH: Math.ceil(Math.ceil((height * c.v) / vmax) / 8),
      coefs: new Int16Array(allocW * allocH * 64),
      pred: 0,
      coefBits: new Int8Array(64).fill(-1),
    };
  });
  return { progressive, width, height, hmax, vmax, mcusW, mcusH, components };
}

/** Validates a scan's parameters (libjpeg's jdinput.c/jdphuff.c checks) and records progression. */
function checkScan(frame: Frame, scan: { components: Component[]; ss: number; se: number; ah: number; al: number }, fail: (why: string) => never): void {
  const { components, ss, se, ah, al } = scan;
  const blocksPerMcu = components.reduce((a, c) => a + (components.length === 1 ? 1 : c.h * c.v), 0);
  if (blocksPerMcu > 10) fail(`${blocksPerMcu} blocks per MCU (at most 10 allowed)`);
  // A sequential scan's Ss/Se/Ah/Al are ignored (libjpeg only warns about odd values).
  if (frame.progressive) {
    const bad = ss === 0 ? se !== 0 : se < ss || se > 63 || components.length !== 1;
    if (bad || al > 13 || (ah !== 0 && ah !== al + 1)) fail(`bad progressive scan parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al}`);
    for (const c of components) for (let k = ss; k <= se; k++) c.coefBits[k] = al;
  }
  for (const c of components) {
    if (!c.dcTable && (!frame.progressive || (ss === 0 && ah === 0))) fail(`component ${c.id} uses an undefined DC Huffman table`);
    if (!c.acTable && (!frame.progressive || ss > 0)) fail(`component ${c.id} uses an undefined AC Huffman table`);
  }
}

/**
 * libjpeg applies "block smoothing" to progressive images whose low-frequency coefficients were
 * never refined to full precision (jdcoefct.c smoothing_ok: coefficients 1..9). Complete files from
 * ordinary encoders always refine everything, so we refuse the rare rest instead of differing.
 */
function checkFullyRefined(frame: Frame, unsupported: (what: string) => never): void {
  for (const c of frame.components) {
    for (let k = 0; k < 10; k++) {
      if (c.coefBits[k] !== 0) unsupported(`progressive file whose coefficient ${k} of component ${c.id} is never fully refined`);
    }
  }
}

/** libjpeg's default_decompress_parms(): which colour space 1 or 3 components are in. */
function colorSpace(frame: Frame, jfif: boolean, adobeTransform: number): JpegColorSpace {
  if (frame.components.length === 1) return 'gray';
  if (jfif) return 'ycc';
  if (adobeTransform >= 0) return adobeTransform === 0 ? 'rgb' : 'ycc';
  const [a, b, c] = frame.components.map((x) => x.id);
  return a === 0x52 && b === 0x47 && c === 0x42 ? 'rgb' : 'ycc'; // component ids 'R', 'G', 'B'
}
