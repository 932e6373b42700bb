// One .npy member: its header (magic, version 1/2/3, the Python dict with descr, fortran_order and
// shape) and the decoding of its data into a typed array.
import { NpzError, quote } from './errors.ts';
import { parsePyLiteral, type PyValue } from './pyliteral.ts';

export type DType = 'float32' | 'float64' | 'float16' | 'uint8' | 'int8' | 'int32' | 'bool';
/** float16 has no typed array in ES2022: it is widened to Float32Array (exactly). bool is 0/1 bytes. */
export type NdData = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array;

export interface NpyHeader {
  /** The dtype string ('<f4'); a structured dtype as the JSON of its field list. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Bytes before the array data: magic, version, length and the padded dict. */
  headerLength: number;
}

/** magic (6) + version (2) + header length (2 in v1, 4 in v2/v3): enough to know the full header size. */
export const NPY_PREAMBLE = 12;
/** numpy itself refuses headers over 10 000 bytes by default; this is only a bound against garbage. */
const MAX_HEADER = 1 << 20;

const KINDS: Record<string, DType> = { f4: 'float32', f8: 'float64', f2: 'float16', u1: 'uint8', i1: 'int8', i4: 'int32', b1: 'bool' };
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What the reader knows about a descr: the decodable dtype (or null) and the element size (or null). */
export function dtypeOf(descr: string): { dtype: DType | null; itemSize: number | null; littleEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) return { dtype: null, itemSize: null, littleEndian: true };
  const [, order, kind, digits] = m;
  const n = Number(digits);
  const itemSize = kind === 'U' ? 4 * n : n;
  const dtype = KINDS[kind + digits] ?? null;
  // '|' (no byte order) is what numpy writes for 1-byte types; for wider ones it would be ambiguous.
  const decodable = dtype !== null && (order === '<' || order === '>' || (order === '|' && n === 1));
  return { dtype: decodable ? dtype : null, itemSize, littleEndian: order !== '>' };
}

/** Parses the header; `bytes` must hold at least NPY_PREAMBLE bytes, and all of it once its length is known. */
export function npyHeaderLength(bytes: Uint8Array, file: string, member: string): number {
  const fail = bad(file, member);
  if (bytes.length < 10) fail('too short for a .npy header');
  if (latin1(bytes.subarray(0, 6)) !== '\x93NUMPY') fail('not a .npy array (bad magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy version ${major}.${bytes[7]}`);
  if (major === 1) return 10 + (bytes[8] | (bytes[9] << 8));
  if (bytes.length < 12) fail('too short for a .npy header');
  const len = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
  if (len > MAX_HEADER) fail(`.npy header length ${len} is implausible`);
  return 12 + len;
}

export function parseNpyHeader(bytes: Uint8Array, file: string, member: string): NpyHeader {
  const fail = bad(file, member);
  const headerLength = npyHeaderLength(bytes, file, member);
  if (bytes.length < headerLength) fail(`.npy header (${headerLength} bytes) is cut off`);
  const raw = bytes.subarray(bytes[6] === 1 ? 10 : 12, headerLength);
  // v1/v2 headers are latin-1, v3 is UTF-8 (only structured dtypes with non-latin-1 field names need it).
  const text = bytes[6] === 3 ? new TextDecoder().decode(raw) : latin1(raw);
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) fail(`garbage .npy header (${e.message})`);
    throw e;
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) return fail('.npy header is not a dict');
  const { descr, fortran_order: fortran, shape } = dict as Record<string, PyValue>;
  if (descr === undefined || fortran === undefined || shape === undefined) fail(".npy header lacks 'descr', 'fortran_order' or 'shape'");
  if (typeof fortran !== 'boolean') fail("'fortran_order' is not True/False");
  if (typeof descr === 'string' && /[^\x20-\x7e]/.test(descr)) fail(`bad descr ${JSON.stringify(descr)}`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && d >= 0)) fail(`bad shape ${JSON.stringify(shape)}`);
  return {
    descr: typeof descr === 'string' ? descr : JSON.stringify(descr),
    fortranOrder: fortran as boolean,
    shape: shape as number[],
    headerLength,
  };
}

/**
 * The array as a typed array in C order. `data` holds exactly the array's bytes.
 * View or copy: a little-endian f4/i4/f8 member on a little-endian host is returned as a VIEW of
 * `data` when its byte offset is a multiple of the element size (the usual case: numpy pads the
 * header to 64 bytes and the file source reads into fresh buffers); otherwise it is COPIED into a
 * fresh, aligned buffer. Big-endian data and float16 are always converted into a new array.
 */
export function decodeNpy(data: Uint8Array, header: NpyHeader, dtype: DType): NdData {
  const count = header.shape.reduce((a, b) => a * b, 1);
  const le = dtypeOf(header.descr).littleEndian;
  let out: NdData;
  if (dtype === 'uint8' || dtype === 'bool') out = data.subarray(0, count);
  else if (dtype === 'int8') out = new Int8Array(data.buffer, data.byteOffset, count);
  else if (dtype === 'float16') out = float16(data, count, le);
  else {
    const Ctor = dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Int32Array;
    const size = Ctor.BYTES_PER_ELEMENT;
    if (le && LITTLE_ENDIAN_HOST) {
      // (A copy via the Uint8Array constructor: Node Buffer.slice would return another view.)
      const aligned = data.byteOffset % size === 0 ? data : new Uint8Array(data.subarray(0, count * size));
      out = new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
    } else {
      out = new Ctor(count);
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const get = dtype === 'float32' ? dv.getFloat32 : dtype === 'float64' ? dv.getFloat64 : dv.getInt32;
      for (let i = 0; i < count; i++) out[i] = get.call(dv, i * size, le);
    }
  }
  return header.fortranOrder && header.shape.length > 1 ? fortranToC(out, header.shape) : out;
}

/** Every binary16 bit pattern's value, built on first use: widening is then one lookup per element. */
let HALF_VALUES: Float32Array | undefined;

function float16(data: Uint8Array, count: number, le: boolean): Float32Array {
  if (!HALF_VALUES) {
    HALF_VALUES = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
      HALF_VALUES[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
  }
  const table = HALF_VALUES;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = table[le ? data[2 * i] | (data[2 * i + 1] << 8) : (data[2 * i] << 8) | data[2 * i + 1]];
  return out;
}

/** Fortran order (first index fastest) → C order (last index fastest), any rank. */
function fortranToC<T extends NdData>(src: T, shape: number[]): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  const rank = shape.length;
  const fstride = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(rank).fill(0);
  let s = 0;
  for (let j = 0; j < out.length; j++) {
    out[j] = src[s];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        s += fstride[k];
        break;
      }
      idx[k] = 0;
      s -= fstride[k] * (shape[k] - 1);
    }
  }
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function bad(file: string, member: string): (problem: string) => never {
  return (problem) => {
    throw new NpzError(file, `member ${quote(member)}: ${problem}`);
  };
}
