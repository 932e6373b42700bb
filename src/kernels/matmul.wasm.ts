// y = x·w on the CPU with WebAssembly SIMD, for adapters that are themselves a CPU (SwiftShader):
// there the WGSL kernels run at 8-10 GFLOP/s (Subzero's code), this at ~45 on one thread of the
// same machine. The module is a few hundred bytes written out below, so no toolchain or binary
// file is needed to build or ship it. Reference: matmul.ref.ts; test: test/kernels/matmul.wasm.test.ts.
//
// w is packed once into panels of 8 columns (K × 8 floats each, k-major), so the inner
// loop reads it contiguously; x is copied into the module's memory with its rows padded to a
// multiple of 4. The microkernel keeps a 4-row × 8-column tile of y in eight 4-lane registers and,
// per k, multiplies and adds (no fused multiply-add, as the WGSL kernels) one broadcast x value by
// the panel's two vectors for each row.
import { MusiqError } from '../common/errors.ts';

const ROWS = 4; // microkernel rows
const COLS = 8; // panel width: two f32x4 registers
/** Rows of x per call: their 4-row strips stay in L2 while every panel passes over them. */
const ROW_BLOCK = 64;

// ---------------------------------------------------------------------------------------------
// The module, emitted as bytes.

const I32 = 0x7f, V128 = 0x7b;
const op = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, get: 0x20, set: 0x21, tee: 0x22,
  i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32LtU: 0x49, f32Load: 0x2a,
} as const;
const simd = { load: 0x00, store: 0x0b, splat: 0x13, add: 0xe4, mul: 0xe6 } as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (...bytes: number[][]): number[] => [...uleb(bytes.length), ...bytes.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

/**
 * gemm(x, w, y, strips, panels, K, xStride, yStride): for each panel, for each 4-row strip,
 * y[strip rows][panel cols] = x[strip rows]·w[panel]. Pointers and strides in bytes; K ≥ 1,
 * strips ≥ 1, panels ≥ 1.
 */
function gemmModule(): Uint8Array {
  // Parameters 0-7, then locals.
  const [X, W, Y, STRIPS, PANELS, K, XS, YS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const P = 8, S = 9, KK = 10, A0 = 11, B = 15, C = 16; // A0..A0+3: the strip's row pointers
  const ACC = 17, BV0 = 25, BV1 = 26; // ACC..ACC+7: y tile, row r in ACC+2r and ACC+2r+1
  const locals = [[9, I32], [11, V128]]; // (count, type) groups: P..C, then ACC..BV1 and the splat
  const get = (l: number) => [op.get, ...uleb(l)];
  const set = (l: number) => [op.set, ...uleb(l)];
  const s = (o: number) => [0xfd, ...uleb(o)];
  const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];
  const i32 = (n: number) => [op.i32Const, ...sleb(n)];

  const body: number[] = [
    ...i32(0), ...set(P),
    op.loop, 0x40, // panels
    ...i32(0), ...set(S),
    op.loop, 0x40, // strips
    // A0 = x + S·4·xStride, A(r) = A0 + r·xStride; B = w + P·K·32; the tile starts at zero.
    ...get(X), ...get(S), ...i32(ROWS), op.i32Mul, ...get(XS), op.i32Mul, op.i32Add, ...set(A0),
    ...[1, 2, 3].flatMap((r) => [...get(A0 + r - 1), ...get(XS), op.i32Add, ...set(A0 + r)]),
    ...get(W), ...get(P), ...get(K), op.i32Mul, ...i32(COLS * 4), op.i32Mul, op.i32Add, ...set(B),
    ...Array.from({ length: 8 }, (_, i) => [...s(0x0c), ...new Array<number>(16).fill(0), ...set(ACC + i)]).flat(),
    ...get(K), ...set(KK),
    op.loop, 0x40, // k
    ...get(B), ...s(simd.load), ...memarg(4, 0), ...set(BV0),
    ...get(B), ...s(simd.load), ...memarg(4, 16), ...set(BV1),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(A0 + r), op.f32Load, ...memarg(2, 0), ...s(simd.splat), op.tee, ...uleb(BV1 + 1), // a splat kept in one more local
      ...get(BV0), ...s(simd.mul), ...get(ACC + 2 * r), ...s(simd.add), ...set(ACC + 2 * r),
      ...get(BV1 + 1), ...get(BV1), ...s(simd.mul), ...get(ACC + 2 * r + 1), ...s(simd.add), ...set(ACC + 2 * r + 1),
      ...get(A0 + r), ...i32(4), op.i32Add, ...set(A0 + r),
    ]),
    ...get(B), ...i32(COLS * 4), op.i32Add, ...set(B),
    ...get(KK), ...i32(1), op.i32Sub, op.tee, ...uleb(KK), op.brIf, 0, // k loop while KK ≠ 0
    op.end,
    // C = y + S·4·yStride + P·32: store the tile's rows.
    ...get(Y), ...get(S), ...i32(ROWS), op.i32Mul, ...get(YS), op.i32Mul, op.i32Add, ...get(P), ...i32(COLS * 4), op.i32Mul, op.i32Add, ...set(C),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(C), ...get(ACC + 2 * r), ...s(simd.store), ...memarg(4, 0),
      ...get(C), ...get(ACC + 2 * r + 1), ...s(simd.store), ...memarg(4, 16),
      ...get(C), ...get(YS), op.i32Add, ...set(C),
    ]),
    ...get(S), ...i32(1), op.i32Add, op.tee, ...uleb(S), ...get(STRIPS), op.i32LtU, op.brIf, 0,
    op.end,
    ...get(P), ...i32(1), op.i32Add, op.tee, ...uleb(P), ...get(PANELS), op.i32LtU, op.brIf, 0,
    op.end,
    op.end,
  ];
  const code = [...vec(...locals.map(([n, t]) => [...uleb(n), t])), ...body];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([0x60, ...vec(...new Array<number[]>(8).fill([I32])), 0x00])), // (i32 × 8) → ()
    ...section(2, vec([...name('env'), ...name('memory'), 0x02, 0x00, 0x01])), // imported memory, min 1 page
    ...section(3, vec([0x00])),
    ...section(7, vec([...name('gemm'), 0x00, 0x00])),
    ...section(10, vec([...uleb(code.length), ...code])),
  ];
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------
// Launcher

type GemmFn = (x: number, w: number, y: number, strips: number, panels: number, k: number, xStride: number, yStride: number) => void;

/** A weight matrix packed into the module's memory (see the header). */
export interface PackedMatrix {
  readonly K: number;
  readonly N: number;
  /** Byte offset of the panels. */
  readonly at: number;
}

const PAGE = 65536;
let compiled: WebAssembly.Module | undefined;

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD. */
export function wasmSimdAvailable(): boolean {
  try {
    if (typeof WebAssembly === 'undefined') return false;
    compiled ??= new WebAssembly.Module(gemmModule() as Uint8Array<ArrayBuffer>);
    return true;
  } catch {
    return false;
  }
}

/**
 * One module instance and its memory: packed weights at the bottom (they stay), scratch for one
 * product's x and y above them (reused).
 */
export class WasmMatmul {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly gemm: GemmFn;
  private top = 0; // bytes of packed weights

  constructor() {
    if (!wasmSimdAvailable()) throw new MusiqError('musiq: this JavaScript engine has no WebAssembly SIMD, which the CPU engine needs');
    const instance = new WebAssembly.Instance(compiled!, { env: { memory: this.memory } });
    this.gemm = instance.exports.gemm as GemmFn;
  }

  /** Bytes of memory the module holds. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /**
   * Packs w (K × N, rows `stride` floats apart from `offset`; flax's in × out) for later products;
   * it stays until `release`.
   */
  pack(w: Float32Array, K: number, N: number, stride = N, offset = 0): PackedMatrix {
    if (K < 1 || N < 1 || w.length < offset + (K - 1) * stride + N) throw new MusiqError(`musiq: ${w.length} values are too few for a ${K}×${N} matrix`);
    const { at, out } = this.#panels(K, N);
    for (let p = 0; p * COLS < N; p++) {
      const width = Math.min(COLS, N - p * COLS);
      for (let k = 0; k < K; k++) {
        const from = offset + k * stride + p * COLS, to = (p * K + k) * COLS;
        for (let j = 0; j < width; j++) out[to + j] = w[from + j];
      }
    }
    return { K, N, at };
  }

  /**
   * Packs the matrix whose columns are the rows of wT (N rows of K values, `stride` floats apart
   * from `offset`), as attention's keys for QKᵀ, without transposing it first.
   */
  packTransposed(wT: Float32Array, K: number, N: number, stride = K, offset = 0): PackedMatrix {
    if (K < 1 || N < 1 || wT.length < offset + (N - 1) * stride + K) throw new MusiqError(`musiq: ${wT.length} values are too few for a ${N}×${K} matrix`);
    const { at, out } = this.#panels(K, N);
    for (let n = 0; n < N; n++) {
      const base = Math.floor(n / COLS) * K * COLS + (n % COLS), from = offset + n * stride;
      for (let k = 0; k < K; k++) out[base + k * COLS] = wT[from + k];
    }
    return { K, N, at };
  }

  #panels(K: number, N: number): { at: number; out: Float32Array } {
    const size = Math.ceil(N / COLS) * K * COLS;
    const at = this.top;
    this.top += size * 4;
    this.reserve(this.top);
    // The last panel's columns past N are left as they are: they only reach y's columns past N, never read.
    return { at, out: new Float32Array(this.memory.buffer, at, size) };
  }

  /** Where packed weights end now: `release(mark)` frees everything packed after it. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark > this.top) throw new MusiqError('musiq: release() past the packed weights');
    this.top = mark;
  }

  /**
   * y (M × N) = x (M × K) · w. x's rows are `xStride` floats apart from `xOffset` (default: packed);
   * y is written into `y` when given, rows `yStride` apart from `yOffset`, else into a new array.
   */
  matmul(x: Float32Array, M: number, w: PackedMatrix, o: MatmulOptions = {}): Float32Array {
    const { K, N } = w;
    const { xStride = K, xOffset = 0, yStride = N, yOffset = 0 } = o;
    if (M > 0 && x.length < xOffset + (M - 1) * xStride + K) throw new MusiqError(`musiq: x has ${x.length} values, too few for ${M}×${K}`);
    const out = o.y ?? new Float32Array(M * N);
    if (M > 0 && out.length < yOffset + (M - 1) * yStride + N) throw new MusiqError(`musiq: y has ${out.length} values, too few for ${M}×${N}`);
    if (M === 0) return out;
    const panels = Math.ceil(N / COLS), ldy = panels * COLS;
    const block = Math.min(ROW_BLOCK, Math.ceil(M / ROWS) * ROWS);
    // Scratch for one block of rows: x padded to 4-row strips, y as whole panels.
    const xAt = align16(this.top), yAt = align16(xAt + block * K * 4);
    this.reserve(yAt + block * ldy * 4);
    const heap = new Float32Array(this.memory.buffer);
    const xs = xAt / 4, ys = yAt / 4;
    for (let m0 = 0; m0 < M; m0 += block) {
      const rows = Math.min(block, M - m0), strips = Math.ceil(rows / ROWS);
      for (let r = 0; r < rows; r++) {
        const from = xOffset + (m0 + r) * xStride;
        heap.set(x.subarray(from, from + K), xs + r * K);
      }
      heap.fill(0, xs + rows * K, xs + strips * ROWS * K);
      this.gemm(xAt, w.at, yAt, strips, panels, K, K * 4, ldy * 4);
      for (let r = 0; r < rows; r++) out.set(heap.subarray(ys + r * ldy, ys + r * ldy + N), yOffset + (m0 + r) * yStride);
    }
    return out;
  }
}

export interface MatmulOptions {
  y?: Float32Array;
  xStride?: number;
  xOffset?: number;
  yStride?: number;
  yOffset?: number;
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
