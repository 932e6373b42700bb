// The size guard every decoder runs before allocating pixels, so a forged header gives a clear
// error instead of an out-of-memory crash.
import { MusiqError } from '../common/errors.ts';

/** Decoders refuse images above this many pixels (2^28 ≈ 268 MP, ~805 MB of RGB). */
export const MAX_PIXELS = 2 ** 28;

/** Throws unless width × height is a sane, allocatable size. */
export function checkDimensions(width: number, height: number, name: string): void {
  if (!(width >= 1 && height >= 1)) throw new MusiqError(`${name}: image has zero size (${width}×${height})`);
  if (width * height > MAX_PIXELS) {
    throw new MusiqError(`${name}: image is ${width}×${height} (${Math.round(width * height / 1e6)} MP), more than the ${MAX_PIXELS / 2 ** 20} MP limit`);
  }
}
