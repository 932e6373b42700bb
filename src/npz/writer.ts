// Writes .npz files the way np.savez does, so what we test against is what numpy produces:
// npy v1.0 headers padded to 64 bytes, local headers with 0xFFFFFFFF sizes and a zip64 extra
// (numpy opens every member with force_zip64), central directory with plain 32-bit sizes.
// Members are produced lazily, one at a time, so a 300 MB file can stream to disk.
import { deflateSync } from 'fflate';
import { crc32 } from '../common/crc32.ts';
import { MusiqError } from '../common/errors.ts';

export interface NpyMember {
  /** Key without `.npy`, e.g. 'opt/target/head/kernel'. */
  name: string;
  descr: string;
  shape: number[];
  /** Size of the bytes `data()` will return, known before they are made. */
  byteLength: number;
  /** Raw array bytes in the descr's byte order, C order; called once, when the member is written. */
  data(): Uint8Array;
}

export interface NpzWriteOptions {
  /** Deflate members (as np.savez_compressed); default stored (as np.savez). */
  deflate?: boolean;
}

const utf8 = new TextEncoder();

/**
 * `\x93NUMPY` v1.0 with the header dict padded with spaces and '\n' so the data starts at a multiple
 * of 64, and at `minLength` or later (a fixed length lets a growing file's shape be rewritten in place).
 */
export function npyHeader(descr: string, shape: number[], minLength = 0): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.max(minLength, Math.ceil((10 + dict.length + 1) / 64) * 64);
  const text = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...utf8.encode('NUMPY'), 1, 0, text.length & 0xff, text.length >> 8]);
  out.set(utf8.encode(text), 10);
  return out;
}

/** The file as a sequence of chunks (headers and member data), for streaming to disk. */
export function* npzChunks(members: Iterable<NpyMember>, options: NpzWriteOptions = {}): Generator<Uint8Array> {
  const zip = new NpzStream(options);
  for (const m of members) yield* zip.member(m);
  yield* zip.end();
}

/**
 * The same file built member by member, for producers that are themselves asynchronous (a
 * converter reading one tensor at a time): `member` gives the chunks of one member, `end` the
 * central directory. Only the directory entries are kept between calls.
 */
export class NpzStream {
  readonly #central: Uint8Array[] = [];
  #offset = 0;
  constructor(private readonly options: NpzWriteOptions = {}) {}

  member(m: NpyMember): Uint8Array[] {
    const { options } = this;
    const name = utf8.encode(`${m.name}.npy`);
    const header = npyHeader(m.descr, m.shape);
    const data = m.data();
    if (data.length !== m.byteLength) throw new MusiqError(`npz writer: member ${m.name} made ${data.length} bytes, announced ${m.byteLength}`);
    const size = header.length + data.length;
    const crc = crc32(data, crc32(header));
    let body: Uint8Array[] = [header, data];
    if (options.deflate) {
      const all = new Uint8Array(size);
      all.set(header);
      all.set(data, header.length);
      body = [deflateSync(all, { level: 6 })];
    }
    const compressed = body.reduce((a, b) => a + b.length, 0);
    if (this.#offset + 30 + name.length + 20 + compressed > 0xfffffffe) throw new MusiqError('npz writer: files over 4 GiB are not supported');
    const method = options.deflate ? 8 : 0;
    const local = new Uint8Array(30 + name.length + 20);
    const lv = new DataView(local.buffer);
    fixedFields(lv, 4, method, crc, 0xffffffff, 0xffffffff, name.length);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(28, 20, true);
    local.set(name, 30);
    // zip64 extra: id 1, 16 bytes: uncompressed then compressed size.
    lv.setUint16(30 + name.length, 1, true);
    lv.setUint16(32 + name.length, 16, true);
    lv.setUint32(34 + name.length, size, true);
    lv.setUint32(42 + name.length, compressed, true);
    const cent = new Uint8Array(46 + name.length);
    const cv = new DataView(cent.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 0x032d, true); // made by: Unix, zip 4.5
    fixedFields(cv, 6, method, crc, compressed, size, name.length);
    cv.setUint32(38, 0o600 << 16, true); // external attributes: -rw-------, as Python writes
    cv.setUint32(42, this.#offset, true);
    cent.set(name, 46);
    this.#central.push(cent);
    this.#offset += local.length + compressed;
    return [local, ...body];
  }

  end(): Uint8Array[] {
    const central = this.#central;
    const cdSize = central.reduce((a, b) => a + b.length, 0);
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, central.length, true);
    ev.setUint16(10, central.length, true);
    ev.setUint32(12, cdSize, true);
    ev.setUint32(16, this.#offset, true);
    return [...central, end];
  }
}

/** Shared by local (at 4) and central (at 6) headers: version, flags, method, time, date, crc, sizes, name length. */
function fixedFields(v: DataView, at: number, method: number, crc: number, compressed: number, size: number, nameLen: number): void {
  v.setUint16(at, 45, true); // version needed: 4.5 (zip64)
  v.setUint16(at + 4, method, true);
  v.setUint16(at + 8, 0x21, true); // 1980-01-01 00:00, numpy's fixed timestamp
  v.setUint32(at + 10, crc, true);
  v.setUint32(at + 14, compressed, true);
  v.setUint32(at + 18, size, true);
  v.setUint16(at + 22, nameLen, true);
}

/**
 * The whole file in one buffer. Stored files are sized first and filled in place, so the only
 * large allocation is the result; deflated ones are collected first (about twice their size).
 */
export function writeNpz(members: NpyMember[], options: NpzWriteOptions = {}): Uint8Array {
  if (options.deflate) {
    const parts = [...npzChunks(members, options)];
    const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  }
  let total = 22;
  for (const m of members) {
    const name = utf8.encode(`${m.name}.npy`).length;
    total += 30 + name + 20 + npyHeader(m.descr, m.shape).length + m.byteLength + 46 + name;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of npzChunks(members, options)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
