// Node: a file read by offsets, so opening a 315 MB checkpoint costs its headers, not its size.
import { open, stat } from 'node:fs/promises';
import { NpzError } from './errors.ts';
import { checkRange, type ByteSource } from './source.ts';

export async function fileSource(path: string): Promise<ByteSource> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new NpzError(path, 'is a directory, not a file');
    if (!st.isFile()) throw new NpzError(path, 'is not a regular file');
    size = st.size;
  } catch (e) {
    throw fsError(path, e);
  }
  const handle = await open(path, 'r').catch((e: unknown) => {
    throw fsError(path, e);
  });
  const source: ByteSource = {
    name: path,
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      // A fresh ArrayBuffer per read (not Node's shared Buffer pool) keeps offset 0 aligned for typed views.
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) throw new NpzError(path, `file ended at ${offset + done} bytes while reading (did it change on disk?)`);
        done += bytesRead;
      }
      return bytes;
    },
    close: () => handle.close(),
  };
  return source;
}

function fsError(path: string, e: unknown): Error {
  if (e instanceof NpzError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return new NpzError(path, 'no such file');
  if (code === 'EACCES' || code === 'EPERM') return new NpzError(path, 'permission denied');
  if (code === 'EISDIR') return new NpzError(path, 'is a directory, not a file');
  return new NpzError(path, `cannot read: ${(e as Error).message ?? String(e)}`);
}
