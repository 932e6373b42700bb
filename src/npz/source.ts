// Random-access bytes for the .npz reader, so a 300 MB checkpoint never has to be one buffer:
// the reader asks for the central directory, the headers and one member at a time.
import { NpzError } from './errors.ts';

export interface ByteSource {
  /** Shown in every error message (a path, URL or file name). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; may be a view that shares memory with the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** Rejects a range outside the source, so a lying header becomes an NpzError, not a short read. */
export function checkRange(source: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new NpzError(source.name, `read of ${length} bytes at offset ${offset} is outside the ${source.size}-byte file`);
  }
}

/**
 * Bytes already in memory. `read` returns zero-copy views: the caller must not write to them
 * (a tensor read from this source shares the caller's buffer when its alignment allows).
 */
export function bytesSource(name: string, bytes: ArrayBuffer | Uint8Array): ByteSource {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const source: ByteSource = {
    name,
    size: all.byteLength,
    async read(offset, length) {
      checkRange(source, offset, length);
      return all.subarray(offset, offset + length);
    },
  };
  return source;
}

/** A browser File/Blob (e.g. from <input type=file> or fetch().blob()): each read is one slice. */
export function blobSource(name: string, blob: Blob): ByteSource {
  const source: ByteSource = {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(source, offset, length);
      const bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      if (bytes.byteLength !== length) throw new NpzError(name, `blob returned ${bytes.byteLength} of ${length} bytes at offset ${offset}`);
      return bytes;
    },
  };
  return source;
}
