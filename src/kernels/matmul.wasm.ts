// y = x·w on the CPU with WebAssembly SIMD: the CPU engine's kernel (src/musiq/model.wasm.ts),
// for adapters that are themselves a slow CPU. On SwiftShader the WGSL kernels run at 8-10
// GFLOP/s (Subzero's code) on two cores; this at 40-52 on one core of the same machine
// (`npm run bench:cpu`). The modules are a few hundred bytes written out below, so no toolchain
// or binary file is needed to build or ship them. Reference: matmul.ref.ts; test:
// test/kernels/matmul.wasm.test.ts.
//
// w is packed once into panels of 8 columns (K × 8 floats each, k-major), so the inner
// loop reads it contiguously; x is copied into the module's memory with its rows padded to a
// multiple of 4. The microkernel keeps a 4-row × 8-column tile of y in eight 4-lane registers and,
// per k, multiplies and adds (no fused multiply-add, as the WGSL kernels) one broadcast x value by
// the panel's two vectors for each row.
import { MusiqError } from '../common/errors.ts';

const ROWS = 4; // microkernel rows: 5 ran 39 GFLOP/s, 6 and 7 27-30 (V8 spills past 16 vector registers)
const COLS = 8; // panel width: two f32x4 registers
/** Rows of x per call: their 4-row strips stay in L2 while every panel passes over them. */
const ROW_BLOCK = 16 * ROWS;

// ---------------------------------------------------------------------------------------------
// The module, emitted as bytes.

const I32 = 0x7f, V128 = 0x7b;
const op = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, get: 0x20, set: 0x21, tee: 0x22,
  i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32LtU: 0x49,
} as const;
const F32 = 0x7d;
const simd = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, splat: 0x13, lane: 0x1f, nearest: 0x6a, shl: 0xab,
  add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, pmin: 0xea, pmax: 0xeb,
} as const;
const f32 = { const: 0x43, add: 0x92, div: 0x95, max: 0x97 } as const;

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
const get = (l: number) => [op.get, ...uleb(l)];
const set = (l: number) => [op.set, ...uleb(l)];
const tee = (l: number) => [op.tee, ...uleb(l)];
const s = (o: number) => [0xfd, ...uleb(o)];
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];
const i32 = (n: number) => [op.i32Const, ...sleb(n)];
const f32Bytes = (x: number) => [...new Uint8Array(new Float32Array([x]).buffer)];
/** A v128 with the same f32 in every lane. */
const f32x4 = (x: number) => [...s(simd.const), ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x)];

/** A module importing env.memory and exporting one function `name` of `params` i32 parameters. */
function moduleBytes(name: string, params: number, locals: [number, number][], body: number[]): Uint8Array {
  const code = [...vec(...locals.map(([n, t]) => [...uleb(n), t])), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([0x60, ...vec(...new Array<number[]>(params).fill([I32])), 0x00])), // (i32 × params) → ()
    ...section(2, vec([...nameBytes('env'), ...nameBytes('memory'), 0x02, 0x00, 0x01])), // imported memory, min 1 page
    ...section(3, vec([0x00])),
    ...section(7, vec([...nameBytes(name), 0x00, 0x00])),
    ...section(10, vec([...uleb(code.length), ...code])),
  ]);
}
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const nameBytes = (t: string): number[] => [...uleb(t.length), ...[...t].map((c) => c.charCodeAt(0))];

/**
 * gemm(x, w, y, strips, panels, K, yStride): for each panel, for each strip of ROWS rows,
 * y[strip rows][panel cols] = x[strip]·w[panel]. The module is made for one K: x's rows are K
 * floats apart, a constant, so one pointer with constant offsets reaches a strip's ROWS values of
 * a k, each loaded and broadcast by one instruction (49 GFLOP/s on 919×384×1152 against 40 with a
 * pointer per row). Pointers and strides in bytes; K, strips and panels ≥ 1.
 */
function gemmModule(rows: number, K: number): Uint8Array {
  const [X, W, Y, STRIPS, PANELS, KS, YS] = [0, 1, 2, 3, 4, 5, 6];
  const P = 7, S = 8, KK = 9, A = 10, B = 11, C = 12; // i32 locals
  const ACC = 13, BV0 = ACC + 2 * rows, BV1 = BV0 + 1, SPLAT = BV1 + 1; // v128: row r's tile in ACC + 2r, ACC + 2r + 1
  const locals: [number, number][] = [[6, I32], [2 * rows + 3, V128]];
  const each = (f: (r: number) => number[]) => Array.from({ length: rows }, (_, r) => f(r)).flat();

  const body: number[] = [
    ...i32(0), ...set(P),
    op.loop, 0x40, // panels
    ...i32(0), ...set(S),
    op.loop, 0x40, // strips
    // A = x + S·ROWS·K·4; B = w + P·K·32; the tile starts at zero.
    ...get(X), ...get(S), ...i32(rows * K * 4), op.i32Mul, op.i32Add, ...set(A),
    ...get(W), ...get(P), ...i32(K * COLS * 4), op.i32Mul, op.i32Add, ...set(B),
    ...Array.from({ length: 2 * rows }, (_, i) => [...s(simd.const), ...new Array<number>(16).fill(0), ...set(ACC + i)]).flat(),
    ...get(KS), ...set(KK),
    op.loop, 0x40, // k
    ...get(B), ...s(simd.load), ...memarg(4, 0), ...set(BV0),
    ...get(B), ...s(simd.load), ...memarg(4, 16), ...set(BV1),
    ...each((r) => [
      ...get(A), ...s(simd.load32Splat), ...memarg(2, 4 * K * r), ...set(SPLAT),
      ...get(SPLAT), ...get(BV0), ...s(simd.mul), ...get(ACC + 2 * r), ...s(simd.add), ...set(ACC + 2 * r),
      ...get(SPLAT), ...get(BV1), ...s(simd.mul), ...get(ACC + 2 * r + 1), ...s(simd.add), ...set(ACC + 2 * r + 1),
    ]),
    ...get(A), ...i32(4), op.i32Add, ...set(A),
    ...get(B), ...i32(COLS * 4), op.i32Add, ...set(B),
    ...get(KK), ...i32(1), op.i32Sub, op.tee, ...uleb(KK), op.brIf, 0, // k loop while KK ≠ 0
    op.end,
    // C = y + S·ROWS·yStride + P·32: store the tile's rows.
    ...get(Y), ...get(S), ...i32(rows), op.i32Mul, ...get(YS), op.i32Mul, op.i32Add, ...get(P), ...i32(COLS * 4), op.i32Mul, op.i32Add, ...set(C),
    ...each((r) => [
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
  return moduleBytes('gemm', 7, locals, body);
}

/**
 * e^x for the v128 in local X, left on the stack (X, NF and RR are overwritten). Cephes' expf:
 * x clamped to [−87, 88], n = round(x·log2 e), r = x − n·ln 2 in two parts, a degree-7
 * polynomial in r (~1 ulp), times 2^n made by shifting n + 127 into the exponent bits (n + 2^23
 * + 127 holds it in its low mantissa bits). Clamps are f32x4.pmin/pmax (one minps/maxps;
 * f32x4.min/max's NaN and ±0 rules cost V8 several instructions: the softmax of 128×919 scores
 * took 0.48 ms with them, 0.31 without). Constants come from locals (`c`): a v128.const in a loop
 * is materialised again each iteration.
 */
function expOf(X: number, NF: number, RR: number, c: (x: number) => number[]): number[] {
  return [
    ...get(X), ...c(-87), ...s(simd.pmax), ...c(88), ...s(simd.pmin), ...tee(X),
    ...c(Math.LOG2E), ...s(simd.mul), ...s(simd.nearest), ...set(NF),
    ...get(X), ...get(NF), ...c(0.693359375), ...s(simd.mul), ...s(simd.sub),
    ...get(NF), ...c(-2.12194440e-4), ...s(simd.mul), ...s(simd.sub), ...set(RR),
    // p = ((((c5·r + c4)·r + c3)·r + c2)·r + c1)·r + c0; e^r = p·r² + r + 1
    ...c(EXP_POLY[0]),
    ...EXP_POLY.slice(1).flatMap((k) => [...get(RR), ...s(simd.mul), ...c(k), ...s(simd.add)]),
    ...get(RR), ...s(simd.mul), ...get(RR), ...s(simd.mul), ...get(RR), ...s(simd.add), ...c(1), ...s(simd.add),
    ...get(NF), ...c(8388608 + 127), ...s(simd.add), ...i32(23), ...s(simd.shl), ...s(simd.mul),
  ];
}
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const EXP_CONSTANTS = [-87, 88, Math.LOG2E, 0.693359375, -2.12194440e-4, 1, 8388608 + 127, ...EXP_POLY];

/** Constants in v128 locals from `first` on: their setup code and a getter. */
function constantLocals(values: number[], first: number): { setup: number[]; c: (x: number) => number[] } {
  return {
    setup: values.flatMap((v, i) => [...f32x4(v), ...set(first + i)]),
    c: (x) => {
      const i = values.indexOf(x);
      if (i < 0) throw new Error(`constant ${x} not declared`);
      return get(first + i);
    },
  };
}

/**
 * softmax(y, rows, n4, stride): each of `rows` rows (`stride` bytes apart) of n4 floats, n4 a
 * multiple of 4 (pad with −∞), becomes exp(v − max) / Σ in place. Values below max − 87 count as
 * max − 87 (e^-87 ≈ 1.6e-38: nothing next to the maximum's 1). V8's Math.exp took 0.6 s of a
 * 1024×768 image.
 */
function softmaxModule(): Uint8Array {
  const [Y, ROWS_, N4, STRIDE] = [0, 1, 2, 3];
  const R = 4, Q = 5, END = 6; // i32
  const M = 7, SUM = 8, X = 9, NF = 10, RR = 11; // v128
  const MX = 12; // f32
  const { setup, c } = constantLocals(EXP_CONSTANTS, 13);
  const locals: [number, number][] = [[3, I32], [5, V128], [1, F32], [EXP_CONSTANTS.length, V128]];
  const lanes = (v: number, combine: number) => [
    ...get(v), ...s(simd.lane), 0, ...get(v), ...s(simd.lane), 1, combine,
    ...get(v), ...s(simd.lane), 2, ...get(v), ...s(simd.lane), 3, combine, combine,
  ];
  const overRow = (inner: number[]) => [
    ...get(Y), ...get(R), ...get(STRIDE), op.i32Mul, op.i32Add, ...set(Q),
    op.loop, 0x40, ...inner, ...get(Q), ...i32(16), op.i32Add, ...tee(Q), ...get(END), op.i32LtU, op.brIf, 0, op.end,
  ];
  const body = [
    ...setup,
    ...i32(0), ...set(R),
    op.loop, 0x40,
    ...get(Y), ...get(R), ...get(STRIDE), op.i32Mul, op.i32Add, ...get(N4), ...i32(4), op.i32Mul, op.i32Add, ...set(END),
    ...f32x4(-Infinity), ...set(M),
    ...overRow([...get(M), ...get(Q), ...s(simd.load), ...memarg(4, 0), ...s(simd.pmax), ...set(M)]),
    ...lanes(M, f32.max), ...s(simd.splat), ...set(M),
    ...f32x4(0), ...set(SUM),
    ...overRow([
      ...get(Q), ...s(simd.load), ...memarg(4, 0), ...get(M), ...s(simd.sub), ...set(X),
      ...expOf(X, NF, RR, c), ...set(X),
      ...get(Q), ...get(X), ...s(simd.store), ...memarg(4, 0),
      ...get(SUM), ...get(X), ...s(simd.add), ...set(SUM),
    ]),
    f32.const, ...f32Bytes(1), ...lanes(SUM, f32.add), f32.div, ...set(MX),
    ...get(MX), ...s(simd.splat), ...set(M),
    ...overRow([...get(Q), ...get(Q), ...s(simd.load), ...memarg(4, 0), ...get(M), ...s(simd.mul), ...s(simd.store), ...memarg(4, 0)]),
    ...get(R), ...i32(1), op.i32Add, ...tee(R), ...get(ROWS_), op.i32LtU, op.brIf, 0,
    op.end,
    op.end,
  ];
  return moduleBytes('softmax', 4, locals, body);
}

/**
 * biasGelu(y, rows, n4, stride, bias): v = y + bias, then the tanh-form GELU (spec §3.5) as
 * 0.5·v·(1 + tanh u) = v / (1 + e^(−2u)), u = √(2/π)·(v + 0.044715·v³), in place on `rows` rows
 * of n4 floats (`stride` bytes apart; bias n4 floats). For v below about −9.4, e^(−2u) is
 * clamped at e^88 and the result is −v·6e-39 instead of −0: nothing an f32 sum notices.
 */
function biasGeluModule(): Uint8Array {
  const [Y, ROWS_, N4, STRIDE, BIAS] = [0, 1, 2, 3, 4];
  const R = 5, Q = 6, END = 7, BQ = 8; // i32
  const V = 9, X = 10, NF = 11, RR = 12; // v128
  const A = -2 * Math.sqrt(2 / Math.PI), B = A * 0.044715;
  const values = [...EXP_CONSTANTS, A, B];
  const { setup, c } = constantLocals(values, 13);
  const locals: [number, number][] = [[4, I32], [4, V128], [values.length, V128]];
  const body = [
    ...setup,
    ...i32(0), ...set(R),
    op.loop, 0x40,
    ...get(Y), ...get(R), ...get(STRIDE), op.i32Mul, op.i32Add, ...tee(Q), ...get(N4), ...i32(4), op.i32Mul, op.i32Add, ...set(END),
    ...get(BIAS), ...set(BQ),
    op.loop, 0x40,
    ...get(Q), ...s(simd.load), ...memarg(4, 0), ...get(BQ), ...s(simd.load), ...memarg(4, 0), ...s(simd.add), ...tee(V),
    // x = v·(A + B·v²) = −2u
    ...get(V), ...get(V), ...s(simd.mul), ...c(B), ...s(simd.mul), ...c(A), ...s(simd.add), ...s(simd.mul), ...set(X),
    ...get(Q), ...get(V), ...expOf(X, NF, RR, c), ...c(1), ...s(simd.add), ...s(simd.div), ...s(simd.store), ...memarg(4, 0),
    ...get(BQ), ...i32(16), op.i32Add, ...set(BQ),
    ...get(Q), ...i32(16), op.i32Add, ...tee(Q), ...get(END), op.i32LtU, op.brIf, 0,
    op.end,
    ...get(R), ...i32(1), op.i32Add, ...tee(R), ...get(ROWS_), op.i32LtU, op.brIf, 0,
    op.end,
    op.end,
  ];
  return moduleBytes('biasGelu', 5, locals, body);
}

// ---------------------------------------------------------------------------------------------
// Launcher

type GemmFn = (x: number, w: number, y: number, strips: number, panels: number, k: number, yStride: number) => void;
type SoftmaxFn = (y: number, rows: number, n4: number, yStride: number) => void;
type BiasGeluFn = (y: number, rows: number, n4: number, yStride: number, bias: number) => void;

/** A weight matrix packed into the module's memory (see the header). */
export interface PackedMatrix {
  readonly K: number;
  readonly N: number;
  /** Byte offset of the panels. */
  readonly at: number;
  /** Byte offset of the bias (N floats, padded to the panels' width) when packed with one. */
  readonly biasAt?: number;
}

const PAGE = 65536;
/** Modules by K, shared by every WasmMatmul; attention's P·V has K = tokens + 1, new for each image size. */
const modules = new Map<number, WebAssembly.Module>();
const MODULES_KEPT = 64;
let rowOps: { softmax: WebAssembly.Module; biasGelu: WebAssembly.Module } | undefined;

function moduleFor(K: number): WebAssembly.Module {
  let m = modules.get(K);
  if (!m) {
    if (modules.size >= MODULES_KEPT) modules.clear(); // a few microseconds each to make again
    m = new WebAssembly.Module(gemmModule(ROWS, K) as Uint8Array<ArrayBuffer>);
    modules.set(K, m);
  }
  return m;
}

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD. */
export function wasmSimdAvailable(): boolean {
  try {
    if (typeof WebAssembly === 'undefined') return false;
    rowOps ??= {
      softmax: new WebAssembly.Module(softmaxModule() as Uint8Array<ArrayBuffer>),
      biasGelu: new WebAssembly.Module(biasGeluModule() as Uint8Array<ArrayBuffer>),
    };
    return moduleFor(1) !== undefined; // an engine without SIMD refuses to compile it
  } catch {
    return false;
  }
}

/**
 * Module instances (one per K) on one memory: packed weights at the bottom (they stay), scratch
 * for one product's x and y above them (reused).
 */
export class WasmMatmul {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly instances = new Map<number, GemmFn>();
  private readonly softmax: SoftmaxFn;
  private readonly biasGelu: BiasGeluFn;
  private top = 0; // bytes of packed weights

  constructor() {
    if (!wasmSimdAvailable()) throw new MusiqError('musiq: this JavaScript engine has no WebAssembly SIMD, which the CPU engine needs');
    const env = { env: { memory: this.memory } };
    this.softmax = new WebAssembly.Instance(rowOps!.softmax, env).exports.softmax as SoftmaxFn;
    this.biasGelu = new WebAssembly.Instance(rowOps!.biasGelu, env).exports.biasGelu as BiasGeluFn;
  }

  #gemm(K: number): GemmFn {
    let f = this.instances.get(K);
    if (!f) {
      if (this.instances.size >= MODULES_KEPT) this.instances.clear();
      f = new WebAssembly.Instance(moduleFor(K), { env: { memory: this.memory } }).exports.gemm as GemmFn;
      this.instances.set(K, f);
    }
    return f;
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new MusiqError(`musiq: the CPU engine could not grow its WebAssembly memory from ${(have / 2 ** 20).toFixed(0)} to ${(bytes / 2 ** 20).toFixed(0)} MiB (${(e as Error).message})`);
    }
  }

  /**
   * Packs w (K × N, rows `stride` floats apart from `offset`; flax's in × out) for later products;
   * it stays until `release`. With `bias` (N values), products can add it and apply GELU here.
   */
  pack(w: Float32Array, K: number, N: number, stride = N, offset = 0, bias?: Float32Array): PackedMatrix {
    if (K < 1 || N < 1 || w.length < offset + (K - 1) * stride + N) throw new MusiqError(`musiq: ${w.length} values are too few for a ${K}×${N} matrix`);
    if (bias && bias.length !== N) throw new MusiqError(`musiq: a bias of ${bias.length} values for ${N} columns`);
    // The bias is placed (and the memory grown) before any view is made: growing detaches them.
    let biasAt: number | undefined;
    if (bias) {
      const width = Math.ceil(N / COLS) * COLS;
      biasAt = this.top;
      this.top += width * 4;
      this.reserve(this.top);
      new Float32Array(this.memory.buffer, biasAt, width).fill(0).set(bias);
    }
    const { at, out } = this.#panels(K, N);
    for (let p = 0; p * COLS < N; p++) {
      const width = Math.min(COLS, N - p * COLS);
      for (let k = 0; k < K; k++) {
        const from = offset + k * stride + p * COLS, to = (p * K + k) * COLS;
        for (let j = 0; j < width; j++) out[to + j] = w[from + j];
      }
    }
    return { K, N, at, biasAt };
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

  /** Room for N / 8 panels, and a view of it (valid until the memory next grows). */
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
   * y (M × N) = x (M × K) · w, softmax(x·w) per row with `softmax`, gelu(x·w + bias) with `gelu`. x's rows are `xStride`
   * floats apart from `xOffset` (default: packed); y is written into `y` when given, rows
   * `yStride` apart from `yOffset`, else into a new array.
   */
  matmul(x: Float32Array, M: number, w: PackedMatrix, o: MatmulOptions = {}): Float32Array {
    const { K, N } = w;
    const { xStride = K, xOffset = 0, yStride = N, yOffset = 0 } = o;
    if (M > 0 && x.length < xOffset + (M - 1) * xStride + K) throw new MusiqError(`musiq: x has ${x.length} values, too few for ${M}×${K}`);
    const out = o.y ?? new Float32Array(M * N);
    if (M > 0 && out.length < yOffset + (M - 1) * yStride + N) throw new MusiqError(`musiq: y has ${out.length} values, too few for ${M}×${N}`);
    if (M === 0) return out;
    if (o.gelu && w.biasAt === undefined) throw new MusiqError('musiq: gelu needs weights packed with their bias');
    const panels = Math.ceil(N / COLS), ldy = panels * COLS;
    const block = Math.min(ROW_BLOCK, Math.ceil(M / ROWS) * ROWS);
    // Scratch for one block of rows: x padded to 4-row strips, y as whole panels.
    const xAt = align16(this.top), yAt = align16(xAt + block * K * 4);
    this.reserve(yAt + block * ldy * 4);
    const heap = new Float32Array(this.memory.buffer);
    const xs = xAt / 4, ys = yAt / 4;
    const gemm = this.#gemm(K);
    for (let m0 = 0; m0 < M; m0 += block) {
      const rows = Math.min(block, M - m0), strips = Math.ceil(rows / ROWS);
      // One set() for a whole block, loops otherwise: in Chromium (V8's sandbox) a subarray per row
      // made these copies 1.3 s of a 1024×768 image, against 0.15 s in Node.
      if (xStride === K) heap.set(x.subarray(xOffset + m0 * K, xOffset + (m0 + rows) * K), xs);
      else copyRows(x, xOffset + m0 * xStride, xStride, heap, xs, K, rows, K);
      heap.fill(0, xs + rows * K, xs + strips * ROWS * K);
      gemm(xAt, w.at, yAt, strips, panels, K, ldy * 4);
      if (o.gelu) this.biasGelu(yAt, rows, ldy, ldy * 4, w.biasAt!);
      if (o.softmax) {
        const n4 = Math.ceil(N / 4) * 4;
        for (let r = 0; r < rows; r++) heap.fill(-Infinity, ys + r * ldy + N, ys + r * ldy + n4);
        this.softmax(yAt, rows, n4, ldy * 4);
      }
      if (ldy === N && yStride === N) out.set(heap.subarray(ys, ys + rows * N), yOffset + m0 * N);
      else copyRows(heap, ys, ldy, out, yOffset + m0 * yStride, yStride, rows, N);
    }
    return out;
  }
}

export interface MatmulOptions {
  y?: Float32Array;
  /** Each row of the product replaced by its softmax (attention's probabilities). */
  softmax?: boolean;
  /** gelu(x·w + bias), the bias packed with w (the MLP's first layer). */
  gelu?: boolean;
  xStride?: number;
  xOffset?: number;
  yStride?: number;
  yOffset?: number;
}

/** `rows` rows of n floats from `from` (rows `fromStride` apart) to `to` (rows `toStride` apart). */
function copyRows(src: Float32Array, from: number, fromStride: number, dst: Float32Array, to: number, toStride: number, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const a = from + r * fromStride, b = to + r * toStride;
    for (let j = 0; j < n; j++) dst[b + j] = src[a + j];
  }
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
