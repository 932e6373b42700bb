// The benchmarks' input image, made rather than read so a run needs no file.
import type { RgbImage } from '../image/rgb-image.ts';
import { mulberry32 } from './random.ts';

/** A smooth random image: natural-ish statistics without needing a file. */
export function syntheticImage(width: number, height: number, seed = 7): RgbImage {
  const r = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  const f = [r() * 0.05, r() * 0.05, r() * 0.05];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(127.5 + 100 * Math.sin(x * f[c] + y * f[(c + 1) % 3]) + 27 * (r() - 0.5));
  return { width, height, data };
}
