// A NumPy .npz (zip of .npy members) read by offsets: opening it reads the central directory and
// each member's headers, never tensor data; `read` fetches one member, checks its CRC and decodes it.
import { Inflate, inflateSync } from 'fflate';
import { crc32 } from '../common/crc32.ts';
import { NpzError, quote } from './errors.ts';
import { decodeNpy, dtypeOf, npyHeaderLength, parseNpyHeader, NPY_PREAMBLE, type DType, type NdData } from './npy.ts';
import type { ByteSource } from './source.ts';
import { localDataOffset, readZipDirectory, type ZipEntry } from './zip.ts';

export type { DType, NdData } from './npy.ts';

export interface NpyInfo {
  /** Member name without `.npy`, as np.load shows it (e.g. 'opt/target/head/kernel'). */
  name: string;
  /** As written in the header: '<f4', '>f8', '|u1', '<V2', ... */
  descr: string;
  /** What `read` returns, or null when the member is listed but not decoded (e.g. bf16 as '<V2'). */
  dtype: DType | null;
  decodable: boolean;
  shape: number[];
  fortranOrder: boolean;
  /** Elements (1 for shape ()). */
  count: number;
  /** Bytes of array data (count · item size); null when the descr's item size is unknown. */
  byteLength: number | null;
  /** Set when `readF32` has to convert (float64 → float32 rounds, float16/ints widen exactly). */
  note?: string;
  method: 'stored' | 'deflate';
  /** Where the member's .npy bytes start in the file (after its local header). */
  dataOffset: number;
  compressedSize: number;
  /** Size of the whole .npy member, header included. */
  size: number;
  /** Offset of the array data inside the .npy member. */
  headerLength: number;
  crc32: number;
}

export interface NdArray {
  name: string;
  dtype: DType;
  shape: number[];
  /** C order. May share memory with a `bytesSource` buffer: treat as read-only. */
  data: NdData;
}

export interface Npz {
  readonly source: ByteSource;
  /** In central-directory order. */
  readonly members: NpyInfo[];
  get(name: string): NpyInfo | undefined;
  read(name: string): Promise<NdArray>;
  /** The member as float32 (converted when its dtype is another numeric type; see NpyInfo.note). */
  readF32(name: string): Promise<Float32Array>;
  /** A little-endian, C-order float16 member as its bit patterns (no conversion); undefined for any other member. */
  readF16Bits(name: string): Promise<Uint16Array | undefined>;
}

export async function openNpz(source: ByteSource): Promise<Npz> {
  const { entries, cdOffset } = await readZipDirectory(source);
  const files = entries.filter((e) => !e.name.endsWith('/')); // skip directory entries, as `zip -r` writes
  const names = new Set<string>();
  for (const e of files) {
    if (!e.name.endsWith('.npy')) throw new NpzError(source.name, `member ${quote(e.name)} is not a .npy array, so this is not an .npz file`);
    if (names.has(e.name)) throw new NpzError(source.name, `duplicate member ${quote(e.name)}`);
    names.add(e.name);
  }
  // Header reads are independent; issuing them together lets a file source overlap them.
  const members = await Promise.all(files.map((e) => memberInfo(source, e, cdOffset)));
  const byName = new Map(members.map((m) => [m.name, m]));
  const member = (name: string): NpyInfo & { dtype: DType } => {
    const info = byName.get(name);
    if (!info) throw new NpzError(source.name, `no member ${quote(name)}`);
    if (!info.dtype) throw new NpzError(source.name, `member ${quote(name)} has dtype '${info.descr}', which this reader lists but does not decode`);
    return info as NpyInfo & { dtype: DType };
  };
  const read = async (name: string): Promise<NdArray> => {
    const info = member(name);
    const bytes = await memberBytes(source, info);
    const header = { descr: info.descr, shape: info.shape, fortranOrder: info.fortranOrder, headerLength: info.headerLength };
    const data = decodeNpy(bytes.subarray(info.headerLength, info.headerLength + info.byteLength!), header, info.dtype);
    return { name, dtype: info.dtype, shape: info.shape, data };
  };
  return {
    source,
    members,
    get: (name) => byName.get(name),
    read,
    async readF32(name) {
      const { data } = await read(name);
      return data instanceof Float32Array ? data : Float32Array.from(data);
    },
    async readF16Bits(name) {
      const info = member(name);
      if (info.descr !== '<f2' || (info.fortranOrder && info.shape.length > 1) || !LITTLE_ENDIAN_HOST) return undefined;
      const bytes = await memberBytes(source, info);
      const data = bytes.subarray(info.headerLength, info.headerLength + info.byteLength!);
      // An odd offset cannot be viewed as 16-bit words: copy to a fresh buffer then.
      return data.byteOffset % 2 ? new Uint16Array(data.slice().buffer) : new Uint16Array(data.buffer, data.byteOffset, info.count);
    },
  };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const NOTES: Partial<Record<DType, string>> = {
  float64: 'float64, rounded to float32 by readF32',
  float16: 'float16, widened to float32 (exact)',
  int32: 'int32, converted to float32 by readF32',
  uint8: 'uint8, converted to float32 by readF32',
  int8: 'int8, converted to float32 by readF32',
  bool: 'bool, read as 0/1',
};

async function memberInfo(source: ByteSource, entry: ZipEntry, cdOffset: number): Promise<NpyInfo> {
  const name = entry.name.slice(0, -'.npy'.length);
  const fail = (problem: string): never => {
    throw new NpzError(source.name, `member ${quote(name)}: ${problem}`);
  };
  // One read normally covers the local header, its zip64 extra and numpy's 64–128-byte .npy header.
  const head = await source.read(entry.localOffset, Math.min(1024, cdOffset - entry.localOffset));
  const dataOffset = localDataOffset(source, entry, head, cdOffset);
  let take: (n: number) => Promise<Uint8Array>;
  if (entry.method === 0) {
    take = async (n) => {
      const at = dataOffset - entry.localOffset, len = Math.min(n, entry.size);
      return at + len <= head.length ? head.subarray(at, at + len) : source.read(dataOffset, len);
    };
  } else {
    take = prefixInflater(source, dataOffset, entry.compressedSize, fail);
  }
  const headerLength = npyHeaderLength(await take(NPY_PREAMBLE), source.name, name);
  if (headerLength > entry.size) fail(`.npy header (${headerLength} bytes) is longer than the member (${entry.size} bytes)`);
  const header = parseNpyHeader(await take(headerLength), source.name, name);
  const { dtype, itemSize } = dtypeOf(header.descr);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const byteLength = itemSize === null ? null : count * itemSize;
  if (byteLength !== null && headerLength + byteLength > entry.size) {
    const shape = header.shape.length === 1 ? `(${header.shape[0]},)` : `(${header.shape.join(', ')})`;
    fail(`data is ${entry.size - headerLength} bytes, but shape ${shape} of '${header.descr}' needs ${byteLength}`);
  }
  const info: NpyInfo = {
    name,
    descr: header.descr,
    dtype,
    decodable: dtype !== null,
    shape: header.shape,
    fortranOrder: header.fortranOrder,
    count,
    byteLength,
    method: entry.method === 0 ? 'stored' : 'deflate',
    dataOffset,
    compressedSize: entry.compressedSize,
    size: entry.size,
    headerLength,
    crc32: entry.crc32,
  };
  if (dtype && NOTES[dtype]) info.note = NOTES[dtype];
  return info;
}

/** The first n bytes of a deflated member, inflating 4 KiB of input at a time (≤ ~4 MB of output each, even for a deflate bomb). */
function prefixInflater(source: ByteSource, offset: number, compressedSize: number, fail: (p: string) => never): (n: number) => Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0, pos = 0;
  const inflater = new Inflate((chunk) => {
    parts.push(chunk);
    have += chunk.length;
  });
  return async (n) => {
    while (have < n && pos < compressedSize) {
      const len = Math.min(4096, compressedSize - pos);
      const chunk = await source.read(offset + pos, len);
      pos += len;
      try {
        inflater.push(chunk, pos === compressedSize);
      } catch (e) {
        fail(`corrupt deflate data (${(e as Error).message})`);
      }
    }
    const all = new Uint8Array(have);
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    return all.subarray(0, Math.min(n, have));
  };
}

async function memberBytes(source: ByteSource, info: NpyInfo): Promise<Uint8Array> {
  const fail = (problem: string): never => {
    throw new NpzError(source.name, `member ${quote(info.name)}: ${problem}`);
  };
  let bytes = await source.read(info.dataOffset, info.compressedSize);
  if (info.method === 'deflate') {
    // One spare byte in the output reveals a stream that inflates to more than the directory says.
    try {
      bytes = inflateSync(bytes, { out: new Uint8Array(info.size + 1) });
    } catch (e) {
      fail(`corrupt deflate data (${(e as Error).message})`);
    }
    if (bytes.length !== info.size) fail(`inflates to ${bytes.length} bytes, not the ${info.size} its directory entry says`);
  }
  if (crc32(bytes) !== info.crc32) fail('CRC mismatch: the member is corrupt');
  return bytes;
}
