// The images a `musiq score` run covers: paths on the command line, directories walked (image
// files only, symlinks followed once: a link loop or a directory that cannot be read becomes an
// error row, never a hang), then sorted, then cut to one shard.
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MusiqError } from '../src/common/errors.ts';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

export interface Input {
  path: string;
  /** Set when the path could not even be listed: the run reports it as an error row. */
  error?: string;
}

export function fsMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const where = err.path ?? '';
  if (err.code === 'ENOENT') return `${where}: no such file`;
  if (err.code === 'EISDIR') return `${where}: is a directory`;
  if (err.code === 'EACCES') return `${where}: permission denied`;
  if (err.code === 'ELOOP') return `${where}: symbolic link loop`;
  return String(err.message).split('\n')[0];
}

export function isFsError(e: unknown): boolean {
  return typeof (e as { code?: unknown })?.code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
}

/** Files named on the command line stay as given (even with odd extensions); directories give their images. */
export async function listInputs(paths: string[]): Promise<Input[]> {
  const out: Input[] = [];
  const seen = new Set<string>(); // real paths of walked directories: a link back up is walked once
  async function walk(dir: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (e) {
      out.push({ path: dir, error: fsMessage(e) });
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      out.push({ path: dir, error: fsMessage(e) });
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const s = await stat(path).catch((e: unknown) => e as NodeJS.ErrnoException);
      if (s instanceof Error) {
        // A dangling link or a loop: report it if it looks like an image, skip it otherwise.
        if (IMAGE_EXT.has(extname(name).toLowerCase()) || s.code === 'ELOOP') out.push({ path, error: fsMessage(s) });
      } else if (s.isDirectory()) await walk(path);
      else if (s.isFile() && IMAGE_EXT.has(extname(name).toLowerCase())) out.push({ path });
    }
  }
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s?.isDirectory()) await walk(p);
    else out.push({ path: p });
  }
  return out;
}

/** Sorted by path (code units, the same on every machine), so shards agree wherever they run. */
export function sortInputs(inputs: Input[]): Input[] {
  return [...inputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `K/N`, 1-based. */
export function parseShard(text: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const k = Number(m?.[1]), n = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n) {
    throw new MusiqError(`musiq score: --shard takes K/N with 1 ≤ K ≤ N (e.g. 2/8), not "${text}"`);
  }
  return { k, n };
}

/** Every N-th item from the K-th on: disjoint for K = 1..N, and together all of them. */
export function shardOf<T>(items: T[], { k, n }: { k: number; n: number }): T[] {
  return items.filter((_, i) => i % n === k - 1);
}
