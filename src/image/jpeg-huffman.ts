// JPEG entropy-coded data: the bit reader (byte stuffing, markers) and canonical Huffman tables
// with a 9-bit lookahead (ITU T.81 Annex C and F.2.2). Written here rather than taken from
// jpeg-js so that truncation and corruption become errors instead of silently decoded zeros.
import { MusiqError } from '../common/errors.ts';

const LOOKAHEAD = 9;

export interface HuffmanTable {
  /** For codes of ≤ 9 bits: (length << 8) | symbol, indexed by the next 9 bits; 0 = longer code. */
  lookup: Uint16Array;
  /** Largest code of each length 1..16 (−1 if none), and its index into `values`. */
  maxcode: Int32Array;
  valoffset: Int32Array;
  values: Uint8Array;
}

/** Builds a table from a DHT segment's 16 code-length counts and its symbols. */
export function buildHuffmanTable(counts: Uint8Array, values: Uint8Array, fail: (why: string) => never): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valoffset = new Int32Array(18);
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    if (n > 0) {
      valoffset[len] = k - code;
      for (let i = 0; i < n; i++, k++, code++) {
        if (len <= LOOKAHEAD) {
          const shift = LOOKAHEAD - len;
          const entry = (len << 8) | values[k];
          for (let j = code << shift, end = (code + 1) << shift; j < end; j++) lookup[j] = entry;
        }
      }
      maxcode[len] = code - 1;
    }
    if (code > 1 << len) fail('bad Huffman table (code space overflows)');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff; // sentinel: no code is longer than 16 bits
  return { lookup, maxcode, valoffset, values };
}

/** MSB-first bit reader over entropy-coded bytes, stopping at the next marker. */
export class BitReader {
  private buf = 0; // `cnt` valid bits, right-aligned
  private cnt = 0;
  /** Zero bits appended once the data ran out (at a marker or the end of the file). */
  private fake = 0;
  private atMarker = false;

  constructor(private readonly data: Uint8Array, public pos: number, private readonly name: string) {}

  private fill(): void {
    const d = this.data;
    while (this.cnt <= 23) {
      let b = 0;
      if (this.atMarker) this.fake += 8;
      else if (this.pos >= d.length) (this.atMarker = true), (this.fake += 8);
      else {
        b = d[this.pos];
        if (b === 0xff) {
          // 0xFF 0x00 is a stuffed 0xFF data byte; 0xFF then anything else starts a marker
          // (extra 0xFF fill bytes before it are skipped, as libjpeg does).
          let q = this.pos + 1;
          while (d[q] === 0xff) q++;
          if (d[q] === 0) this.pos = q + 1;
          else (b = 0), (this.atMarker = true), (this.fake += 8);
        } else this.pos++;
      }
      this.buf = ((this.buf << 8) | b) >>> 0;
      this.cnt += 8;
    }
  }

  bits(n: number): number {
    if (n === 0) return 0;
    if (this.cnt < n) this.fill();
    this.cnt -= n;
    const v = this.buf >>> this.cnt;
    this.buf &= (1 << this.cnt) - 1;
    return v;
  }

  bit(): number {
    if (this.cnt < 1) this.fill();
    this.cnt--;
    const v = this.buf >>> this.cnt;
    this.buf &= (1 << this.cnt) - 1;
    return v;
  }

  /** n bits as the signed value of magnitude category n (T.81 F.2.2.1 EXTEND). */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  decode(t: HuffmanTable): number {
    if (this.cnt < 17) this.fill(); // the slow path below may look at 17 bits
    const e = t.lookup[this.buf >>> (this.cnt - LOOKAHEAD)];
    if (e !== 0) {
      this.cnt -= e >> 8;
      this.buf &= (1 << this.cnt) - 1;
      return e & 0xff;
    }
    let len = LOOKAHEAD + 1;
    let code = this.buf >>> (this.cnt - len);
    while (code > t.maxcode[len]) {
      len++;
      code = this.buf >>> (this.cnt - len);
    }
    if (len > 16) throw new MusiqError(`${this.name}: corrupt JPEG data (invalid Huffman code)`);
    this.cnt -= len;
    this.buf &= (1 << this.cnt) - 1;
    return t.values[t.valoffset[len] + code];
  }

  /** Throws if decoding consumed bits that were not in the file. */
  checkNotOverrun(): void {
    if (this.fake > this.cnt) throw new MusiqError(`${this.name}: corrupt JPEG: entropy-coded data ran out (truncated)`);
  }

  /**
   * Drops the bits left in the buffer (byte-aligned padding) and returns the offset of the next
   * marker, i.e. of its 0xFF; data.length if there is none.
   */
  alignToMarker(): number {
    this.checkNotOverrun();
    const d = this.data;
    let p = this.pos;
    while (p < d.length && !(d[p] === 0xff && p + 1 < d.length && d[p + 1] !== 0 && d[p + 1] !== 0xff)) p++;
    this.buf = this.cnt = this.fake = 0;
    this.atMarker = false;
    this.pos = p;
    return p;
  }

  /** After alignToMarker: consumes the marker at `pos` and continues with the data after it. */
  skipMarker(): void {
    this.pos += 2;
  }
}
