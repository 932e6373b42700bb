// `--embeddings FILE.npy`: the CLS embeddings, float32 [n, hidden], row i for output row i (an
// error row gets a row of NaN, so the two files stay aligned). The file grows one row per image:
// the row's bytes are made durable first, then the header's shape is rewritten in place (the
// header has a fixed 128 bytes), so numpy can read the file at any moment. Its row is written
// before the image's result row, so after a kill it may hold one row more than --out; reopening
// cuts it back to the result file's count.
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { MusiqError } from '../src/common/errors.ts';
import { npyHeader } from '../src/npz/writer.ts';
import { parseNpyHeader } from '../src/npz/npy.ts';

const HEADER = 128;

export interface EmbeddingsFile {
  append(embedding: Float32Array | undefined): void;
  close(): void;
}

export function openEmbeddingsFile(file: string, hidden: number, rows: number): EmbeddingsFile {
  const rowBytes = hidden * 4;
  let fd: number;
  const refuse = (why: string) => new MusiqError(`${file}: ${why}; it is left as it is (choose another --embeddings, or remove it together with --out)`);
  try {
    fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
  } catch (e) {
    throw new MusiqError(`${file}: cannot open for writing: ${(e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  if (size === 0) {
    if (rows > 0) throw (closeSync(fd), refuse(`is empty but the results file already has ${rows} rows`));
  } else {
    const head = new Uint8Array(Math.min(size, HEADER));
    readSync(fd, head, 0, head.length, 0);
    let shape: number[];
    try {
      const h = parseNpyHeader(head, file, 'embeddings');
      if (h.headerLength !== HEADER || h.descr !== '<f4' || h.fortranOrder) throw new Error('layout');
      shape = h.shape;
    } catch {
      closeSync(fd);
      throw refuse('is not an embeddings file written by musiq');
    }
    if (shape.length !== 2 || shape[1] !== hidden) throw (closeSync(fd), refuse(`holds [${shape.join(', ')}], this checkpoint's embeddings are ${hidden} wide`));
    const have = Math.floor((size - HEADER) / rowBytes);
    if (have < rows) throw (closeSync(fd), refuse(`has ${have} rows but the results file has ${rows}`));
  }
  let n = rows;
  const writeHeader = () => writeSync(fd, npyHeader('<f4', [n, hidden], HEADER), 0, HEADER, 0);
  ftruncateSync(fd, HEADER + n * rowBytes);
  writeHeader();
  fdatasyncSync(fd);
  const nan = new Float32Array(hidden).fill(NaN);
  return {
    append(embedding) {
      const row = embedding ?? nan;
      if (row.length !== hidden) throw new MusiqError(`${file}: an embedding of ${row.length} values, expected ${hidden}`);
      writeSync(fd, new Uint8Array(row.buffer, row.byteOffset, rowBytes), 0, rowBytes, HEADER + n * rowBytes);
      fdatasyncSync(fd);
      n++;
      writeHeader();
      fdatasyncSync(fd);
    },
    close() {
      closeSync(fd);
    },
  };
}
