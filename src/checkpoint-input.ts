// Turns the non-path forms of a checkpoint argument into a ByteSource (shared by both runtimes).
import { MusiqError } from './common/errors.ts';
import { blobSource, bytesSource, type ByteSource } from './npz/source.ts';
import type { CheckpointInput } from './index.ts';

export function isByteSource(x: unknown): x is ByteSource {
  return typeof x === 'object' && x !== null && typeof (x as ByteSource).read === 'function' && typeof (x as ByteSource).size === 'number';
}

export async function fetchSource(url: string): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new MusiqError(`${url}: download failed: ${(e as Error).message}`);
  }
  if (!res.ok) throw new MusiqError(`${url}: download failed: HTTP ${res.status} ${res.statusText}`);
  return bytesSource(url, await res.arrayBuffer());
}

/**
 * Whether sourceOf() downloads this input over HTTP(S). In a browser (`relative`) a URL without a
 * scheme is a download too, resolved against the page.
 */
export function isDownload(input: CheckpointInput, relative = false): boolean {
  if (!(typeof input === 'string' || input instanceof URL)) return false;
  const text = input instanceof URL ? input.href : input;
  return /^https?:/i.test(text) || (relative && !/^[a-z][a-z0-9+.-]*:/i.test(text));
}

/** ByteSource for everything but a file path; `undefined` means "a path: platform's business". */
export async function sourceOf(input: CheckpointInput): Promise<ByteSource | undefined> {
  if (isByteSource(input)) return input;
  if (input instanceof ArrayBuffer || input instanceof Uint8Array) return bytesSource('checkpoint', input);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return blobSource((input as File).name ?? 'checkpoint', input);
  const text = input instanceof URL ? input.href : String(input);
  if (/^(https?|blob|data):/i.test(text)) return fetchSource(text);
  return undefined;
}
