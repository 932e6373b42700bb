// Decoding one JPEG scan into quantised DCT coefficients: sequential (baseline/extended) and
// progressive (DC/AC, first/refinement) Huffman scans with restart intervals (ITU T.81 F.2 and
// G.1.2). The coefficient arithmetic follows libjpeg's jdhuff.c/jdphuff.c, including JCOEF's
// 16-bit storage, so that even odd files give the coefficients libjpeg-turbo gives.
import { MusiqError } from '../common/errors.ts';
import { BitReader, type HuffmanTable } from './jpeg-huffman.ts';

/** Zigzag position → natural (row-major) index; 16 extra entries absorb runs past 63 in corrupt data, as libjpeg does. */
const NATURAL = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
  63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);
export { NATURAL as ZIGZAG_TO_NATURAL };

export interface Component {
  id: number;
  h: number;
  v: number;
  /** Quantisation table selector. */
  tq: number;
  /** Blocks that cover the component's own samples (what a single-component scan codes). */
  blocksW: number;
  blocksH: number;
  /** Blocks stored: whole MCUs, as interleaved scans code them. */
  allocW: number;
  allocH: number;
  /** allocW × allocH blocks of 64 coefficients in natural order. */
  coefs: Int16Array;
  dcTable?: HuffmanTable;
  acTable?: HuffmanTable;
  /** DC predictor of the scan being decoded. */
  pred: number;
  /** Progressive: the successive-approximation bit each coefficient is known down to (−1: never sent). */
  coefBits: Int8Array;
}

export interface Frame {
  progressive: boolean;
  width: number;
  height: number;
  hmax: number;
  vmax: number;
  mcusW: number;
  mcusH: number;
  components: Component[];
}

export interface Scan {
  components: Component[];
  ss: number;
  se: number;
  ah: number;
  al: number;
  restartInterval: number;
}

/** What the block decoders of one scan share. */
interface ScanState {
  r: BitReader;
  ss: number;
  se: number;
  al: number;
  eobrun: number;
  fail: (why: string) => never;
}

type BlockDecoder = (st: ScanState, c: Component, off: number) => void;

function dcDiff(st: ScanState, c: Component): number {
  const t = st.r.decode(c.dcTable!);
  if (t > 16) st.fail(`DC magnitude category ${t}`);
  return st.r.receiveExtend(t);
}

function sequential(st: ScanState, c: Component, off: number): void {
  const z = c.coefs, r = st.r, ac = c.acTable!;
  z.fill(0, off, off + 64);
  z[off] = c.pred += dcDiff(st, c);
  for (let k = 1; k < 64; k++) {
    const rs = r.decode(ac), s = rs & 15, run = rs >> 4;
    if (s) {
      k += run;
      z[off + NATURAL[k]] = r.receiveExtend(s);
    } else {
      if (run !== 15) break;
      k += 15;
    }
  }
}

function dcFirst(st: ScanState, c: Component, off: number): void {
  c.coefs[off] = (c.pred += dcDiff(st, c)) << st.al;
}

function dcRefine(st: ScanState, c: Component, off: number): void {
  if (st.r.bit()) c.coefs[off] |= 1 << st.al;
}

function acFirst(st: ScanState, c: Component, off: number): void {
  if (st.eobrun > 0) {
    st.eobrun--;
    return;
  }
  const z = c.coefs, r = st.r, ac = c.acTable!, se = st.se, al = st.al;
  for (let k = st.ss; k <= se; k++) {
    const rs = r.decode(ac), s = rs & 15, run = rs >> 4;
    if (s) {
      k += run;
      z[off + NATURAL[k]] = r.receiveExtend(s) << al;
    } else if (run === 15) {
      k += 15;
    } else {
      st.eobrun = (1 << run) - 1 + r.bits(run);
      break;
    }
  }
}

/** Successive-approximation AC refinement (jdphuff.c decode_mcu_AC_refine). */
function acRefine(st: ScanState, c: Component, off: number): void {
  const z = c.coefs, r = st.r, se = st.se, p1 = 1 << st.al, m1 = -1 << st.al;
  let k = st.ss;
  if (st.eobrun === 0) {
    const ac = c.acTable!;
    for (; k <= se; k++) {
      const rs = r.decode(ac);
      let run = rs >> 4, s = rs & 15;
      if (s) {
        if (s !== 1) st.fail(`AC refinement value of size ${s}`);
        s = r.bit() ? p1 : m1;
      } else if (run !== 15) {
        st.eobrun = (1 << run) + r.bits(run);
        break; // the rest of this block is handled as part of the EOB run
      }
      // Skip `run` still-zero coefficients; each nonzero one passed gets a correction bit.
      for (; k <= se; k++) {
        const i = off + NATURAL[k];
        if (z[i] !== 0) {
          if (r.bit() && (z[i] & p1) === 0) z[i] += z[i] >= 0 ? p1 : m1;
        } else if (--run < 0) break;
      }
      if (s) z[off + NATURAL[k]] = s;
    }
  }
  if (st.eobrun > 0) {
    for (; k <= se; k++) {
      const i = off + NATURAL[k];
      if (z[i] !== 0 && r.bit() && (z[i] & p1) === 0) z[i] += z[i] >= 0 ? p1 : m1;
    }
    st.eobrun--;
  }
}

/** Decodes the scan whose entropy-coded data starts at `pos`; returns the offset of the marker that ends it. */
export function decodeScan(data: Uint8Array, pos: number, frame: Frame, scan: Scan, name: string): number {
  const fail = (why: string): never => {
    throw new MusiqError(`${name}: corrupt JPEG: ${why}`);
  };
  const r = new BitReader(data, pos, name);
  const { ss, se, ah, al } = scan;
  const st: ScanState = { r, ss, se, al, eobrun: 0, fail };
  const restart = () => {
    for (const c of scan.components) c.pred = 0;
    st.eobrun = 0;
  };
  restart();

  let decodeBlock: BlockDecoder;
  if (!frame.progressive) decodeBlock = sequential;
  else if (ss === 0) decodeBlock = ah === 0 ? dcFirst : dcRefine;
  else decodeBlock = ah === 0 ? acFirst : acRefine;

  const comps = scan.components;
  const single = comps.length === 1;
  const total = single ? comps[0].blocksW * comps[0].blocksH : frame.mcusW * frame.mcusH;
  const ri = scan.restartInterval;
  for (let mcu = 0, nextRst = 0; mcu < total; mcu++) {
    if (ri > 0 && mcu > 0 && mcu % ri === 0) {
      const m = r.alignToMarker();
      if (m >= data.length) fail('data ends inside a scan (truncated)');
      if (data[m + 1] !== 0xd0 + nextRst) fail(`expected restart marker RST${nextRst}, found 0xFF${data[m + 1].toString(16).toUpperCase()}`);
      r.skipMarker();
      nextRst = (nextRst + 1) & 7;
      restart();
    }
    if (single) {
      const c = comps[0];
      const row = (mcu / c.blocksW) | 0, col = mcu - row * c.blocksW;
      decodeBlock(st, c, (row * c.allocW + col) * 64);
    } else {
      const my = (mcu / frame.mcusW) | 0, mx = mcu - my * frame.mcusW;
      for (const c of comps) {
        for (let v = 0; v < c.v; v++) {
          const base = (my * c.v + v) * c.allocW + mx * c.h;
          for (let h = 0; h < c.h; h++) decodeBlock(st, c, (base + h) * 64);
        }
      }
    }
    if ((mcu & 1023) === 1023) r.checkNotOverrun(); // stop early on a badly truncated file
  }
  return r.alignToMarker();
}
