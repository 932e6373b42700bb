// Named checkpoints (`--model koniq`): looked up in a cache folder and downloaded once from the
// original bucket. A download lands in a temporary file and is renamed only when complete and
// valid, so an interrupted one never leaves a file that looks usable.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MusiqError } from '../common/errors.ts';
import { fileSource } from '../npz/source.node.ts';
import { openCheckpoint } from './checkpoint.ts';

export const MODEL_NAMES = ['koniq', 'spaq', 'paq2piq', 'ava', 'imagenet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export const DEFAULT_BASE_URL = 'https://storage.googleapis.com/gresearch/musiq';

export function modelFileName(name: ModelName): string {
  return name === 'imagenet' ? 'imagenet_pretrain.npz' : `${name}_ckpt.npz`;
}

export function musiqHome(env: Record<string, string | undefined> = process.env): string {
  return env.MUSIQ_HOME || join(homedir(), '.cache', 'musiq');
}

export interface ResolveOptions {
  home?: string;
  /** Overrides the bucket (tests serve synthetic checkpoints from 127.0.0.1). */
  baseUrl?: string;
  onProgress?: (received: number, total: number | undefined) => void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Path of the named checkpoint in the cache, downloading it first when absent. */
export async function resolveModel(name: string, options: ResolveOptions = {}): Promise<string> {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) {
    throw new MusiqError(`musiq: unknown model "${name}" (choose one of ${MODEL_NAMES.join(', ')}, or pass --checkpoint <file.npz>)`);
  }
  const file = modelFileName(name as ModelName);
  const home = options.home ?? musiqHome();
  const path = join(home, file);
  if (await exists(path)) return path;
  const url = `${(options.baseUrl ?? process.env.MUSIQ_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/$/, '')}/${file}`;
  await mkdir(home, { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  try {
    await download(url, partial, options.onProgress);
    const source = await fileSource(partial);
    try {
      await openCheckpoint(source);
    } finally {
      await source.close?.();
    }
    await rename(partial, path);
    return path;
  } catch (e) {
    await rm(partial, { force: true });
    const why = e instanceof MusiqError ? e.message : (e as Error).message;
    throw new MusiqError(`musiq: could not get the ${name} checkpoint from ${url}: ${why}. Offline? Download it elsewhere and put it at ${path} (or set MUSIQ_HOME, or pass --checkpoint <file.npz>)`);
  }
}

async function download(url: string, to: string, onProgress?: ResolveOptions['onProgress']): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`fetch failed (${cause?.code ?? cause?.message ?? (e as Error).message})`);
  }
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length')) || undefined;
  const out = createWriteStream(to);
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      onProgress?.(received, length);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (length !== undefined && received !== length) throw new Error(`download ended after ${received} of ${length} bytes`);
}
