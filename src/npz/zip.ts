// The zip container of an .npz: end-of-central-directory (plain and zip64), the central directory
// and local headers. Only the central directory's sizes are trusted (local headers may hold
// 0xFFFFFFFF + a zip64 extra, as np.savez writes, or zeros + a data descriptor when the writer
// could not seek), and every size and offset is checked against the file before anything is read.
import { NpzError, quote } from './errors.ts';
import type { ByteSource } from './source.ts';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate; other methods are rejected when the entry is parsed. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** Where the central directory starts: every member's data must end before it. */
  cdOffset: number;
}

const EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
// Names are UTF-8 (flag bit 11) or CP437; numpy's ASCII key names read the same either way.
const utf8 = new TextDecoder();
/** Deflate cannot expand more than ~1032:1; a larger claim is a lie, caught before allocating. */
export const MAX_DEFLATE_RATIO = 1032;

export async function readZipDirectory(source: ByteSource): Promise<ZipDirectory> {
  const fail = (problem: string): never => {
    throw new NpzError(source.name, problem);
  };
  if (source.size === 0) fail('empty file');
  if (source.size < 22) fail(`not a zip/.npz file (only ${source.size} bytes)`);
  const tailStart = Math.max(0, source.size - 22 - MAX_COMMENT);
  const tail = await source.read(tailStart, source.size - tailStart);
  const tv = view(tail);
  // The record is 22 bytes plus a comment that must reach exactly to the end of the file.
  let at = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tv.getUint32(p, true) === EOCD && p + 22 + tv.getUint16(p + 20, true) === tail.length) {
      at = p;
      break;
    }
  }
  if (at < 0) fail(await whatItIs(source));
  const eocdOffset = tailStart + at;
  let count = tv.getUint16(at + 10, true);
  let cdSize = tv.getUint32(at + 12, true);
  let cdOffset = tv.getUint32(at + 16, true);
  let cdLimit = eocdOffset;
  const disks = [tv.getUint16(at + 4, true), tv.getUint16(at + 6, true)];
  if (at >= 20 && tv.getUint32(at - 20, true) === ZIP64_LOCATOR) {
    const z64 = u64(tv, at - 12, source);
    if (z64 + 56 > eocdOffset - 20) fail(`zip64 end record offset ${z64} is outside the file`);
    const rec = view(await source.read(z64, 56));
    if (rec.getUint32(0, true) !== ZIP64_EOCD) fail('zip64 end-of-central-directory record is missing or corrupt');
    disks[0] = rec.getUint32(16, true);
    disks[1] = rec.getUint32(20, true);
    count = u64(rec, 32, source);
    cdSize = u64(rec, 40, source);
    cdOffset = u64(rec, 48, source);
    cdLimit = z64;
  }
  if (disks[0] !== 0 || disks[1] !== 0) fail('multi-disk (split) zip archives are not supported');
  if (cdOffset + cdSize > cdLimit) fail(`central directory (${cdSize} bytes at ${cdOffset}) lies outside the file`);
  if (count * 46 > cdSize) fail(`central directory of ${cdSize} bytes cannot hold ${count} entries`);
  const cd = await source.read(cdOffset, cdSize);
  const dv = view(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL) fail(`central directory entry ${i} is corrupt`);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) fail(`central directory entry ${i} runs past the directory`);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    let compressedSize = dv.getUint32(p + 20, true), size = dv.getUint32(p + 24, true), localOffset = dv.getUint32(p + 42, true);
    // zip64 extra: 8-byte values for exactly those fields that hold 0xFFFFFFFF, in this order.
    const want = [size, compressedSize, localOffset].map((v) => v === 0xffffffff);
    if (want.some(Boolean)) {
      const z = findExtra(dv, p + 46 + nameLen, extraLen, 0x0001);
      const n = want.filter(Boolean).length;
      if (!z || z.length < 8 * n) fail(`member ${quote(name)}: zip64 sizes missing from its central directory entry`);
      let q = z!.offset;
      const next = () => ((q += 8), u64(dv, q - 8, source));
      if (want[0]) size = next();
      if (want[1]) compressedSize = next();
      if (want[2]) localOffset = next();
    }
    const entry: ZipEntry = { name, method: dv.getUint16(p + 10, true), flags: dv.getUint16(p + 8, true), crc32: dv.getUint32(p + 16, true), compressedSize, size, localOffset };
    if (entry.flags & 1) fail(`member ${quote(name)} is encrypted`);
    if (entry.method !== 0 && entry.method !== 8) fail(`member ${quote(name)} uses compression method ${entry.method} (only stored and deflate are supported)`);
    if (entry.method === 0 && size !== compressedSize) fail(`member ${quote(name)} is stored but its sizes disagree (${compressedSize} vs ${size})`);
    if (localOffset + 30 + nameLen + compressedSize > cdOffset) fail(`member ${quote(name)} (${compressedSize} bytes at ${localOffset}) lies outside the file data`);
    if (entry.method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      fail(`member ${quote(name)} claims ${size} bytes from ${compressedSize} compressed, more than deflate can produce`);
    }
    entries.push(entry);
    p = end;
  }
  return { entries, cdOffset };
}

/**
 * Offset of the member's data: the LOCAL header's name and extra lengths decide it (its extra field
 * differs from the central one). `head` holds bytes already read from the local header onwards.
 */
export function localDataOffset(source: ByteSource, entry: ZipEntry, head: Uint8Array, cdOffset: number): number {
  const fail = (problem: string): never => {
    throw new NpzError(source.name, `member ${quote(entry.name)}: ${problem}`);
  };
  if (head.length < 30) fail(`local header at ${entry.localOffset} is cut off`);
  const dv = view(head);
  if (dv.getUint32(0, true) !== LOCAL) fail(`no local header at offset ${entry.localOffset}`);
  const nameLen = dv.getUint16(26, true);
  const dataOffset = entry.localOffset + 30 + nameLen + dv.getUint16(28, true);
  if (dataOffset + entry.compressedSize > cdOffset) fail(`data (${entry.compressedSize} bytes at ${dataOffset}) runs past the end of the file data`);
  if (head.length >= 30 + nameLen && utf8.decode(head.subarray(30, 30 + nameLen)) !== entry.name) {
    fail('local header name differs from the central directory');
  }
  return dataOffset;
}

function findExtra(dv: DataView, start: number, length: number, id: number): { offset: number; length: number } | undefined {
  for (let p = start; p + 4 <= start + length; ) {
    const len = dv.getUint16(p + 2, true);
    if (p + 4 + len > start + length) return undefined;
    if (dv.getUint16(p, true) === id) return { offset: p + 4, length: len };
    p += 4 + len;
  }
  return undefined;
}

/** A 64-bit little-endian size or offset; anything past the file is a lie, caught here. */
function u64(dv: DataView, at: number, source: ByteSource): number {
  const v = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
  if (v > source.size * MAX_DEFLATE_RATIO + 1024) throw new NpzError(source.name, `zip64 value ${v} is impossible for a ${source.size}-byte file`);
  return v;
}

/** Why there is no end record: a cut-off zip, a bare .npy, or something else entirely. */
async function whatItIs(source: ByteSource): Promise<string> {
  const head = await source.read(0, Math.min(6, source.size));
  const text = String.fromCharCode(...head);
  if (text.startsWith('PK\x03\x04')) return 'truncated or damaged zip (no end-of-central-directory record)';
  if (text === '\x93NUMPY') return 'a single .npy array, not an .npz archive';
  return 'not a zip/.npz file (no end-of-central-directory record)';
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
