// CPU time of decoding and preprocessing a synthetic photo-like image, per size and format.
// Usage: node --import tsx bench/preprocess.ts [--quick]
// Prints one line per case: median wall ms of decodeImage and of preprocess over the runs.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage } from '../src/image/decode.ts';
import { preprocess } from '../src/musiq/preprocess.ts';
import { mulberry32 } from '../tools/random.ts';

const quick = process.argv.includes('--quick');
const runs = quick ? 1 : 5;

/** Smooth colour waves plus noise: compresses like a photo, exercises every code path. */
function synthetic(w: number, h: number): Uint8Array {
  const r = mulberry32(w ^ h);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0; x < w; x++, o += 4) {
      for (let c = 0; c < 3; c++) rgba[o + c] = Math.max(0, Math.min(255, 128 + 90 * Math.sin(x / (31 + 7 * c)) * Math.cos(y / 23) + 25 * r()));
      rgba[o + 3] = 255;
    }
  }
  return rgba;
}

function median(f: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

for (const [w, h] of [[1024, 768], [4000, 3000]]) {
  const rgba = synthetic(w, h);
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgba);
  const files = {
    'JPEG q90 4:2:0 (jpeg-js encoder)': new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 90).data),
    PNG: new Uint8Array(PNG.sync.write(png, { colorType: 2 })),
  };
  for (const [format, bytes] of Object.entries(files)) {
    const img = decodeImage(bytes);
    const decodeMs = median(() => decodeImage(bytes));
    let tokens = 0;
    const preMs = median(() => (tokens = preprocess(img).tokens));
    console.log(`${w}×${h} ${format.padEnd(32)} ${(bytes.length / 1e6).toFixed(2).padStart(6)} MB  decode ${decodeMs.toFixed(0).padStart(5)} ms  preprocess ${preMs.toFixed(0).padStart(5)} ms  (${tokens} tokens)`);
  }
}
