// `--out FILE`: result rows streamed to disk, one per image, each flushed to the disk before the
// next image starts, so a run killed at any moment (SIGKILL, power loss) leaves complete rows plus
// at most one torn last line. Opening an existing file reads what is done (for resume), drops a
// torn last line, and refuses a file that is not ours rather than appending to or overwriting it.
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { MusiqError } from '../src/common/errors.ts';

export type OutFormat = 'jsonl' | 'csv';

/** A row as printed by --json and written to .jsonl (score is null in JSON where it is NaN: imagenet). */
export interface ResultRow {
  path: string;
  score?: number | null;
  variant?: string;
  width?: number;
  height?: number;
  tokens?: number;
  ms?: number;
  distribution?: number[];
  top5?: { index: number; probability: number }[];
  error?: string;
}

export const CSV_HEADER = ['path', 'score', 'variant', 'width', 'height', 'tokens', 'ms', 'error'] as const;

export function formatOf(path: string): OutFormat | undefined {
  return /\.jsonl$/i.test(path) ? 'jsonl' : /\.csv$/i.test(path) ? 'csv' : undefined;
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(row: ResultRow): string {
  return CSV_HEADER.map((k) => csvCell(row[k])).join(',');
}

/** One CSV record (RFC 4180 quoting); undefined when the text is not one well-formed record. */
export function parseCsvLine(line: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') (cell += '"'), (i += 2);
          else break;
        } else cell += line[i++];
      }
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end < 0 ? line.length : end;
      cell = line.slice(i, stop);
      if (cell.includes('"')) return undefined;
      i = stop;
    }
    cells.push(cell);
    if (i === line.length) return cells;
    if (line[i] !== ',') return undefined;
    i++;
  }
}

function rowFromCsv(cells: string[]): ResultRow {
  const [path, score, variant, width, height, tokens, ms, error] = cells;
  if (error) return { path, error };
  const num = (s: string) => (s === '' ? undefined : Number(s));
  return { path, score: score === '' || score === 'NaN' ? null : Number(score), variant, width: num(width), height: num(height), tokens: num(tokens), ms: num(ms) };
}

function isRow(x: unknown): x is ResultRow {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as ResultRow;
  return typeof r.path === 'string' && (typeof r.error === 'string' || typeof r.score === 'number' || r.score === null);
}

/**
 * Splits a file into its complete records, parsed. CSV records never span lines here: paths and
 * messages with a newline are quoted, and a quoted newline is a torn or foreign file to us.
 */
export function readResults(text: string, file: string, format: OutFormat): { rows: ResultRow[]; completeBytes: number } {
  const end = text.lastIndexOf('\n') + 1; // past the last complete line; anything after it is torn
  const lines = text.slice(0, end).split('\n').slice(0, -1);
  const rows: ResultRow[] = [];
  const foreign = (n: number, why: string) =>
    new MusiqError(`${file}: line ${n} ${why}; not a musiq results file, so it is left as it is (choose another --out, or remove it)`);
  lines.forEach((line, i) => {
    if (format === 'csv') {
      if (i === 0) {
        if (line !== CSV_HEADER.join(',')) throw foreign(1, `is not the header "${CSV_HEADER.join(',')}"`);
        return;
      }
      const cells = parseCsvLine(line);
      if (!cells || cells.length !== CSV_HEADER.length) throw foreign(i + 1, `is not a ${CSV_HEADER.length}-column record`);
      rows.push(rowFromCsv(cells));
    } else {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw foreign(i + 1, 'is not JSON');
      }
      if (!isRow(value)) throw foreign(i + 1, 'is not a result row (needs "path" and "score" or "error")');
      rows.push(value);
    }
  });
  return { rows, completeBytes: Buffer.byteLength(text.slice(0, end)) };
}

export interface ResultFile {
  /** Rows already in the file (resume: their paths are skipped). */
  readonly done: ResultRow[];
  /** Bytes of a torn last line that were dropped, 0 if none. */
  readonly dropped: number;
  append(row: ResultRow): void;
  close(): void;
}

export function openResultFile(file: string, format: OutFormat): ResultFile {
  let done: ResultRow[] = [];
  let dropped = 0;
  let fd: number;
  try {
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      const text = bytes.toString('utf8');
      if (text.includes('\0')) throw new MusiqError(`${file}: has NUL bytes; not a musiq results file, so it is left as it is (choose another --out, or remove it)`);
      const read = readResults(text, file, format);
      done = read.rows;
      dropped = bytes.length - read.completeBytes;
      // A torn line is dropped only where the file is ours: a foreign file without a single
      // newline would otherwise be all "torn line" and be erased.
      const torn = text.slice(text.lastIndexOf('\n') + 1);
      const start = format === 'csv' ? CSV_HEADER.join(',') : '{"path":';
      if (dropped && read.completeBytes === 0 && !(start.startsWith(torn.slice(0, start.length)))) {
        throw new MusiqError(`${file}: does not start like a musiq ${format} results file; it is left as it is (choose another --out, or remove it)`);
      }
      fd = openSync(file, 'r+');
      if (dropped) ftruncateSync(fd, read.completeBytes);
      closeSync(fd);
    }
    fd = openSync(file, 'a');
  } catch (e) {
    if (e instanceof MusiqError) throw e;
    throw new MusiqError(`${file}: cannot open for writing: ${(e as Error).message}`);
  }
  const write = (text: string) => {
    writeSync(fd, text);
    fdatasyncSync(fd); // durable before the next image: a power loss costs at most this row
  };
  if (format === 'csv' && done.length === 0 && (!existsSync(file) || readFileSync(file).length === 0)) write(CSV_HEADER.join(',') + '\n');
  return {
    done,
    dropped,
    append(row) {
      write((format === 'csv' ? csvLine(row) : JSON.stringify(row)) + '\n');
    },
    close() {
      closeSync(fd);
    },
  };
}
