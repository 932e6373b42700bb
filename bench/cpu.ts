// The CPU engine's kernels (src/kernels/matmul.wasm.ts) on the products of one 1024×768 image
// (918 tokens + CLS, full-size dims), one line each: milliseconds and GFLOP/s (a multiply and an
// add are one flop each; the softmax's and GELU's exp count nothing), after a warm-up that lets V8 tier the
// module up. `npm run bench:cpu [-- --json]`. For the whole model on this engine against the GPU
// engine or PyTorch: `npm run bench:model -- --engine cpu [--vs-torch]`, `npm run bench:browser -- --engine gpu,cpu`.
import { WasmMatmul } from '../src/kernels/matmul.wasm.ts';
import { randomArray } from '../src/bench/random.ts';
import { median } from '../src/bench/timing.ts';

const json = process.argv.includes('--json');
const T = 919; // tokens with CLS at 1024×768
const SHAPES: { name: string; M: number; K: number; N: number; softmax?: boolean; gelu?: boolean }[] = [
  { name: 'conv_root (im2col, 16 patches)', M: 16 * 256, K: 147, N: 64 },
  { name: 'conv_proj | conv1 (16 patches)', M: 16 * 64, K: 64, N: 320 },
  { name: 'conv2 3×3 (im2col, 16 patches)', M: 16 * 64, K: 576, N: 64 },
  { name: 'conv3 (16 patches)', M: 16 * 64, K: 64, N: 256 },
  { name: 'embedding (16 patches)', M: 16, K: 16384, N: 384 },
  { name: 'q|k|v', M: T, K: 384, N: 1152 },
  { name: 'q·kᵀ + softmax (one head, 128 queries)', M: 128, K: 64, N: T, softmax: true },
  { name: 'p·v (one head, 128 queries)', M: 128, K: T, N: 64 },
  { name: 'attention out', M: T, K: 384, N: 384 },
  { name: 'mlp Dense_0 + bias + GELU', M: T, K: 384, N: 1152, gelu: true },
  { name: 'mlp Dense_1', M: T, K: 1152, N: 384 },
];

const mm = new WasmMatmul();
const rows = [];
for (const [i, s] of SHAPES.entries()) {
  const x = randomArray(s.M * s.K, 2 * i + 1), w = randomArray(s.K * s.N, 2 * i + 2);
  const mark = mm.mark();
  const packed = mm.pack(w, s.K, s.N, s.N, 0, s.gelu ? randomArray(s.N, 99) : undefined);
  const y = new Float32Array(s.M * s.N);
  const times: number[] = [];
  const until = performance.now() + 300;
  for (let rep = 0; rep < 3 || performance.now() < until; rep++) {
    const t = performance.now();
    mm.matmul(x, s.M, packed, { y, softmax: s.softmax, gelu: s.gelu });
    times.push(performance.now() - t);
  }
  mm.release(mark);
  const ms = median(times.slice(Math.floor(times.length / 2))); // the second half: after tier-up
  const gflops = (2 * s.M * s.K * s.N) / ms / 1e6;
  rows.push({ kernel: 'matmul.wasm', shape: [s.M, s.K, s.N], name: s.name, softmax: Boolean(s.softmax), gelu: Boolean(s.gelu), ms, gflops });
  if (!json) console.log(`matmul.wasm ${s.name.padEnd(40)} ${`${s.M}×${s.K}×${s.N}`.padEnd(16)} ${ms.toFixed(2).padStart(7)} ms ${gflops.toFixed(1).padStart(6)} GFLOP/s`);
}
if (json) console.log(JSON.stringify(rows));
