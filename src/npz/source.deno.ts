// Deno: a file read by offsets through Deno's own file API (needs only --allow-read), so a
// 315 MB checkpoint costs its headers to open, as in Node (source.node.ts).
import { NpzError } from './errors.ts';
import { checkRange, type ByteSource } from './source.ts';

/** The part of Deno's namespace used here, typed locally: the package builds without Deno's types. */
interface DenoFile {
  seek(offset: number, whence: 0): Promise<number>;
  read(into: Uint8Array): Promise<number | null>;
  close(): void;
}
interface DenoFs {
  stat(path: string | URL): Promise<{ isFile: boolean; isDirectory: boolean; size: number }>;
  open(path: string | URL, options: { read: true }): Promise<DenoFile>;
}

function deno(): DenoFs {
  const ns = (globalThis as { Deno?: DenoFs }).Deno;
  if (!ns) throw new Error('musiq: the deno entry point runs only in Deno');
  return ns;
}

const SEEK_START = 0;

export async function denoFileSource(path: string | URL): Promise<ByteSource> {
  const name = path instanceof URL ? decodeURIComponent(path.pathname) : path;
  const fs = deno();
  let size: number;
  try {
    const st = await fs.stat(path);
    if (st.isDirectory) throw new NpzError(name, 'is a directory, not a file');
    if (!st.isFile) throw new NpzError(name, 'is not a regular file');
    size = st.size;
  } catch (e) {
    throw fsError(name, e);
  }
  const file = await fs.open(path, { read: true }).catch((e: unknown) => {
    throw fsError(name, e);
  });
  // One handle has one position: reads are chained so a seek never interleaves with another read.
  let queue: Promise<unknown> = Promise.resolve();
  const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
    const bytes = new Uint8Array(length);
    await file.seek(offset, SEEK_START);
    let done = 0;
    while (done < length) {
      const n = await file.read(bytes.subarray(done));
      if (n === null || n === 0) throw new NpzError(name, `file ended at ${offset + done} bytes while reading (did it change on disk?)`);
      done += n;
    }
    return bytes;
  };
  const source: ByteSource = {
    name,
    size,
    read(offset, length) {
      checkRange(source, offset, length);
      const result = queue.then(() => readAt(offset, length));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      file.close();
    },
  };
  return source;
}

function fsError(path: string, e: unknown): Error {
  if (e instanceof NpzError) return e;
  const kind = (e as { name?: string }).name;
  if (kind === 'NotFound') return new NpzError(path, 'no such file');
  // NotCapable: Deno's permission system said no (a missing --allow-read); PermissionDenied: the OS did.
  if (kind === 'NotCapable') return new NpzError(path, `Deno denied reading it: run with --allow-read (or --allow-read=${path})`);
  if (kind === 'PermissionDenied') return new NpzError(path, 'permission denied');
  if (kind === 'IsADirectory') return new NpzError(path, 'is a directory, not a file');
  return new NpzError(path, `cannot read: ${(e as Error).message ?? String(e)}`);
}
