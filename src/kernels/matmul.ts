// Y = X·W (+ bias) (→ tanh-GELU) (+ residual) on row-major f32, W in the checkpoint's flax
// "in × out" layout (K×N, used as stored), as f32 or (with shader-f16) f16; math is f32 either
// way. Several kernels compute the same thing; which is fastest depends on the adapter, so a
// short autotune picks one per adapter (tuneMatmul) and matmul() uses it, or a per-adapter-kind
// default before tuning.
import { grid, uniforms } from '../runtime/uniforms.ts';
import { textureRows } from '../runtime/texture-copy.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { isCpuAdapter, subgroupProblem } from '../runtime/device.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';
import { adapterKey, wallMsInTurns, type TuneCache } from './tune.ts';
import { isPromoted } from './tiers.ts';

export const MATMUL_VARIANTS = ['naive', 'tiled', 'blocked', 'uniform', 'subgroup', 'subgroup64', 'subgroup4'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

export interface MatmulOptions {
  /** [N] (any shape of N values), added to every row. */
  bias?: Tensor;
  /** tanh-GELU after the bias. */
  gelu?: boolean;
  /** [M, N] added last; may be `out` itself (in-place x += f(x)). */
  residual?: Tensor;
  /** [M, N] destination; must not be x, w or bias. Allocated when absent. */
  out?: Tensor;
  /** Force one of MATMUL_VARIANTS instead of the tuned/default choice. */
  variant?: string;
}

// Params.flags bits, as in src/kernels/lib/matmul_epilogue.wgsl.
const BIAS = 1;
const GELU = 2;
const RESIDUAL = 4;
const RESIDUAL_IN_Y = 8;
/** Every variant reads W through one of these includes; for an f16 W they are swapped. */
const HALF_W = { 'lib/matmul_w': 'lib/matmul_w_f16', 'lib/matmul_w4': 'lib/matmul_w4_f16' };
// Tried, not kept: the subgroup kernels reading W from a texture copy on lavapipe, as attention
// reads qkv (a w4At() over textureLoad). Zen 1 host, bench/model.ts alternating: 4.66-4.86 s an
// image against 5.03-5.08, all of it from the stem's two matmuls (the encoder's alone: no gain).
// With the stem's W in a texture, Dawn's event polling stalled for 1-4 s mid-image in 3 of 9 runs
// (a tick blocked inside ProcessEvents), so the stem's onSubmittedWorkDone resolved at the image's
// end and its stem/encoder split read e.g. 4740 ms / 0 ms; cause not found.
// Tried, not kept: X in a uniform buffer (32 rows a dispatch, bound at an offset), each lane a
// vec4 column of W, since lavapipe reads a uniform at a lane-uniform address as one scalar load
// where a storage load costs a branch per lane and word. Zen 1 host, 919×384×1152, the kernel
// alone in turns with these: 32×1 tile 99-163 ms, 32×2 92-98, 16×4 90-95; subgroup 85-114,
// subgroup64 47-79. Not faster than the subgroup kernels, and 29 dispatches a matmul.
// What lavapipe emits per load (Mesa 25.0.7's own source, gallivm lp_bld_nir_soa.c): a storage
// load is scalar + broadcast only when its offset is built from constants and uniforms alone (a
// loop counter or workgroup_id makes it per lane); per lane it is a branch on the lane's mask and
// a bounds-check branch per word. Workgroup memory drops the bounds check, not the per-lane
// branch. A uniform buffer at a per-lane offset is a branchless gather, as is an rgba32float
// textureLoad (one 16-byte load a lane, through a function call). So X and W both through
// textures were measured too (32-row tile, the kernel alone, in turns): 919×384×1152
// W through a texture 52-55 ms against 68-72 for storage, X and W 57 ms; 919×1152×384 71 against
// 81. The 64-row tile, whose W loads feed twice the multiply-adds, runs these shapes about as
// fast from storage (919×384×1152: 47-79 ms, above), which fits W in a texture gaining nothing in
// the encoder (above). Measured again in one process, 11 rounds in turns: 919×384×1152 medians
// 79.5 ms (32 rows, storage), 71.6 (W texture), 64.6 (X texture), 67.7 (both), 50.6 (64 rows,
// storage); 919×1152×384 57.6, 48.2, 52.0, 49.2, 43.1; the 64-row tile with textures ran as its
// storage kernel. Compile on a fresh Mesa cache (919×384×1152, no epilogue): 32 rows 1.9-2.0 s,
// W texture 1.8, both 1.55; 64 rows 4.3, both 2.75. So textures would help the first tier only
// (~15% of its matmul time, ~0.4 s of a cold start), and only with the stem's matmuls too (one
// pipeline), where the polling stall above struck: not taken.

interface Variant {
  kernel: string;
  /** Why this variant cannot run the shape on this runtime, or undefined if it can. */
  unsupported(rt: Runtime, M: number, K: number, N: number): string | undefined;
  workgroups(M: number, N: number): [number, number];
}

const vec4Columns = (N: number) => (N % 4 === 0 ? undefined : `N = ${N} is not a multiple of 4`);

const VARIANTS: Record<MatmulVariant, Variant> = {
  naive: { kernel: 'matmul_naive', unsupported: () => undefined, workgroups: (M, N) => [Math.ceil(N / 8), Math.ceil(M / 8)] },
  tiled: { kernel: 'matmul_tiled', unsupported: () => undefined, workgroups: (M, N) => [Math.ceil(N / 64), Math.ceil(M / 64)] },
  blocked: { kernel: 'matmul_blocked', unsupported: (_rt, _M, _K, N) => vec4Columns(N), workgroups: (M, N) => grid(Math.ceil((Math.ceil(M / 12) * Math.ceil(N / 8)) / 64)) },
  uniform: {
    kernel: 'matmul_uniform',
    unsupported: (rt, M, K, N) => (isCpuAdapter(rt.adapter) ? undefined : 'it is meant for CPU adapters') ?? vec4Columns(N) ?? uniformProblem(M, K),
    workgroups: (_M, N) => [Math.ceil(N / 4 / 64), 1],
  },
  subgroup: {
    kernel: 'matmul_subgroup',
    unsupported: (rt, _M, K, N) => subgroupProblem(rt, 8) ?? vec4Columns(N) ?? (K % 4 === 0 ? undefined : `K = ${K} is not a multiple of 4`),
    workgroups: (M, N) => [Math.ceil(N / 32), Math.ceil(M / 32)],
  },
  subgroup64: {
    kernel: 'matmul_subgroup64',
    unsupported: (rt, M, K, N) => VARIANTS.subgroup.unsupported(rt, M, K, N),
    workgroups: (M, N) => [Math.ceil(N / 64), Math.ceil(M / 64)],
  },
  subgroup4: {
    kernel: 'matmul_subgroup4',
    unsupported: (rt, _M, K, N) => subgroupProblem(rt, 4) ?? vec4Columns(N) ?? (K % 4 === 0 ? undefined : `K = ${K} is not a multiple of 4`),
    workgroups: (M, N) => [Math.ceil(N / 64), Math.ceil(M / 32)],
  },
};

/** matmul_uniform's X window: a uniform binding of 64 KiB (WebGPU's guaranteed limit), 256-byte aligned. */
const X_WINDOW = 65536;
const UNIFORM_ALIGN = 256;
const alignDown = (bytes: number) => bytes - (bytes % UNIFORM_ALIGN);
/**
 * matmul_uniform reads W from a texture copy this many texels wide (lib/matmul_w4_texture), f32 or
 * f16 alike: under Deno on lavapipe (Zen 1 host, in turns, the copy included) 919×384×1152 163 ms
 * against 190 from storage, 919×1152×384 196 against 223; with an f16 W, storage took 153 ms
 * against the f32 texture's 135.
 */
const W_TEXTURE_WIDTH = 2048;
const W_TEXTURE = { 'lib/matmul_w4': 'lib/matmul_w4_texture' };
/** Rows a matmul_uniform dispatch takes: 32, or 14 where 32 rows of K do not fit a window with alignment slack. */
function uniformRows(K: number): number {
  return Math.floor((X_WINDOW - UNIFORM_ALIGN) / (K * 4)) >= 32 ? 32 : 14;
}
/**
 * One dispatch per row tile: worth it for the encoder's few hundred rows, not for the stem's 58,752.
 * Measured with the limit lifted (Zen 1 host, in turns): 58,752×64×256 in 1,836 dispatches took
 * 1,158 ms against matmul_blocked's 753 under Deno, 900 against 702 in Node. A dispatch costs
 * ~130-150 µs of encoding in either (createBindGroup ~55 of it) and ~30 µs more on lavapipe.
 */
const UNIFORM_MAX_TILES = 128;
function uniformProblem(M: number, K: number): string | undefined {
  if (K % 4 !== 0) return `K = ${K} is not a multiple of 4`;
  if (14 * K * 4 > X_WINDOW - UNIFORM_ALIGN) return `K = ${K} rows do not fit its 64 KiB uniform window`;
  if (M * K * 4 < X_WINDOW) return `X of ${M}×${K} is smaller than its 64 KiB uniform window`;
  if (Math.ceil(M / uniformRows(K)) > UNIFORM_MAX_TILES) return `${M} rows would take more than ${UNIFORM_MAX_TILES} dispatches`;
  return undefined;
}

function isVariant(v: string): v is MatmulVariant {
  return (MATMUL_VARIANTS as readonly string[]).includes(v);
}

/** Bump when a kernel or the way of timing changes, so cached tuning results are measured again. */
const TUNE_VERSION = 'matmul/7';
const tuned = new Map<string, MatmulVariant>();

/**
 * Before tuning: CPU adapters (lavapipe, SwiftShader) pay per load instruction, not per FMA,
 * so the load-saving kernels win there; GPUs want workgroup-memory tiles.
 */
function defaultVariant(rt: Runtime): MatmulVariant {
  const cpu = isCpuAdapter(rt.adapter);
  if (!cpu) return 'tiled';
  return subgroupProblem(rt, 8) === undefined ? 'subgroup' : subgroupProblem(rt, 4) === undefined ? 'subgroup4' : 'blocked';
}

/**
 * Adapters whose winner is known, so tuning them would only cost a newcomer's first image time:
 * ~2 s of timing and the compile of every losing kernel (tiled, blocked and subgroup4 took 1.7,
 * 0.4 and 3.2 s to compile on a busy lavapipe). On the CPU adapters the load-saving subgroup
 * kernels are defaultVariant()'s choice for measured reasons (matmul_subgroup.wgsl's header;
 * subgroup4 ran 2.0-2.8× matmul_blocked on lavapipe at 4 lanes). NVIDIA GPUs take the tiled
 * kernel, GPUs' default: on an H200 (Dawn, Vulkan) it ran every encoder and embedding shape
 * 1.2-2.2× faster than blocked and 2.5-14× faster than the subgroup kernels (`musiq bench`), the
 * tuning chose it in each of three fresh processes, and it cost a first run 1.9-2.2 s (0.3 s of
 * timing, the rest compiling the kernels that lose). Everything else is measured.
 */
function knownBest(rt: Runtime): MatmulVariant | undefined {
  const { architecture, vendor } = rt.adapter;
  if (architecture === 'software' || architecture === 'swiftshader') return defaultVariant(rt);
  return vendor === 'nvidia' ? 'tiled' : undefined;
}

/**
 * Where the subgroup kernel runs 64-row tiles (matmul_subgroup64): twice the multiply-adds per W
 * load, for more spilled accumulators and a coarser row edge. First measured on lavapipe at
 * 1.05-1.35× the 32-row, two-column tile from K = 1152 on and 0.7-0.95× at K = 384, hence the K
 * threshold, which GPUs keep (no GPU has timed it). On CPU adapters which tile wins depends on the
 * CPU, and the 64-row tile costs ~4× the compile, so it is measured (tuneMatmulTile) when a run
 * earns the fast-running tier (tiers.ts) and used only then. lavapipe, 8 lanes, the kernel alone:
 * on a Zen 4 host it ran 0.75-0.8× the 32-row tile (matmul_subgroup.wgsl's header); on a Zen 1
 * host (AMD EPYC family 23 model 1) 1.33-1.69× on every model shape (919×384×1152 74 ms against
 * 104, 919×1152×384 69 against 92, the stem's 58,752×64×256 159 against 227 and 58,752×64×64 48
 * against 80), for a compile of 7.5 s against 1.7 there (fresh Mesa cache).
 */
const LONG_K = 1152;
const TILE_VERSION = 'matmul-tile/1';
/** adapterKey → whether the fast-running tier of this CPU adapter takes the 64-row tile (measured). */
const tile64OnCpu = new Map<string, boolean>();

function wantsTile64(rt: Runtime, cpu: boolean, K: number): boolean {
  return cpu ? isPromoted(rt) && tile64OnCpu.get(adapterKey(rt)) === true : K >= LONG_K;
}

/**
 * Times the subgroup kernel's 32- and 64-row tiles on this CPU adapter (in turns, on an encoder
 * shape), and from then on its fast-running tier takes the faster; remembered in `cache`. Meant
 * for a second device of the same adapter, which also compiles the 64-row tile for the driver's
 * cache (compile-ahead.ts), while the scorer's device goes on. Returns whether the 64-row tile
 * won; false without measuring where the subgroup kernel is not this adapter's choice.
 */
export async function tuneMatmulTile(rt: Runtime, cache?: TuneCache): Promise<boolean> {
  // The encoder's qkv projection of a 1024×768 image, each sample ≥ 30 ms, best of 5 rounds. At
  // 256×384×1152 with one dispatch a sample, best of 3, bench:model picked the 64-row tile on a
  // Zen 5 host where it ran 0.75-0.85× as fast (lavapipe, 8 lanes, medians of 10 alternating:
  // 919×384×1152 24.0 ms against 17.9, 919×1152×384 22.7 against 16.8, 58,752×64×256 55.5 against
  // 46.3, 256×384×1152 8.3 against 7.3), and its model took 2.4-2.7 s an image against 1.6-1.8.
  const [M, K, N] = [1024, 384, 1152];
  const key = adapterKey(rt);
  const preferred = tuned.get(key) ?? defaultVariant(rt);
  if (!isCpuAdapter(rt.adapter) || preferred !== 'subgroup' || VARIANTS.subgroup64.unsupported(rt, M, K, N)) return false;
  const [ms32, ms64] = await timeVariants(rt, ['subgroup', 'subgroup64'], [M, K, N], 30, 5);
  const use64 = ms64 < ms32;
  tile64OnCpu.set(key, use64);
  await cache?.set(`${TILE_VERSION}|${key}`, use64 ? '64' : '32');
  return use64;
}

/** Pins (or with undefined forgets) whether this CPU adapter's fast-running tier takes the 64-row tile, as tuneMatmulTile would. */
export function setMatmulTile(rt: Runtime, use64: boolean | undefined): void {
  if (use64 === undefined) tile64OnCpu.delete(adapterKey(rt));
  else tile64OnCpu.set(adapterKey(rt), use64);
}

/** The variant matmul() uses for this shape now: the tuned or default one, else one that can run it. */
export function matmulVariant(rt: Runtime, M: number, K: number, N: number): MatmulVariant {
  const preferred = tuned.get(adapterKey(rt)) ?? defaultVariant(rt);
  const cpu = isCpuAdapter(rt.adapter);
  const tile64: MatmulVariant[] = preferred === 'subgroup' && wantsTile64(rt, cpu, K) ? ['subgroup64'] : [];
  // Fallbacks for shapes the preferred kernel cannot take (e.g. a 1- or 10-class head: N % 4 ≠ 0).
  // A tiny output on a CPU adapter gets the naive kernel: it compiles in 0.08 CPU-s against
  // tiled's 0.89 on lavapipe (fresh Mesa cache), and the head's few hundred flops need no tiling.
  const last: MatmulVariant = cpu && M * N <= 4096 ? 'naive' : 'tiled';
  const order: MatmulVariant[] = [...tile64, preferred, ...(preferred.startsWith('subgroup') || preferred === 'uniform' ? (['blocked'] as const) : []), last];
  return order.find((v) => VARIANTS[v].unsupported(rt, M, K, N) === undefined) ?? 'naive';
}

/** Pins the variant matmul() prefers on this adapter (as tuning would), or with undefined forgets it. */
export function setMatmulVariant(rt: Runtime, variant: MatmulVariant | undefined): void {
  if (variant === undefined) tuned.delete(adapterKey(rt));
  else tuned.set(adapterKey(rt), variant);
}

/** The variants that can run [M×K]·[K×N] on this runtime. */
export function matmulVariantsFor(rt: Runtime, M: number, K: number, N: number): MatmulVariant[] {
  return MATMUL_VARIANTS.filter((v) => VARIANTS[v].unsupported(rt, M, K, N) === undefined);
}

function dims(t: Tensor, name: string): number[] {
  if (t.dtype !== 'f32') throw new MusiqError(`matmul: ${name} must be f32, got ${t.dtype}`);
  return [...t.shape];
}

function checkSize(t: Tensor | undefined, name: string, size: number, what: string): void {
  if (!t) return;
  dims(t, name);
  if (t.size !== size) throw new MusiqError(`matmul: ${name} [${t.shape.join(', ')}] has ${t.size} values, expected ${size} for ${what}`);
}

export function matmul(rt: Runtime, x: Tensor, w: Tensor, opts: MatmulOptions = {}): Tensor<'f32'> {
  const xs = dims(x, 'x');
  const halfW = w.dtype === 'f16';
  if (halfW && !rt.features.has('shader-f16')) throw new MusiqError(`matmul: f16 weights need the shader-f16 feature, which ${rt.adapterName} lacks`);
  const ws = halfW ? [...w.shape] : dims(w, 'w');
  if (xs.length !== 2 || ws.length !== 2 || xs[1] !== ws[0]) {
    throw new MusiqError(`matmul: shapes [${xs.join(', ')}]·[${ws.join(', ')}] do not multiply (need [M, K]·[K, N])`);
  }
  const [M, K] = xs;
  const N = ws[1];
  checkSize(opts.bias, 'bias', N, `N = ${N} columns`);
  checkSize(opts.residual, 'residual', M * N, `the [${M}, ${N}] output`);
  checkSize(opts.out, 'out', M * N, `the [${M}, ${N}] output`);
  let variant: MatmulVariant;
  if (opts.variant !== undefined) {
    if (!isVariant(opts.variant)) throw new MusiqError(`matmul: unknown variant "${opts.variant}" (one of ${MATMUL_VARIANTS.join(', ')})`);
    variant = opts.variant;
    const why = VARIANTS[variant].unsupported(rt, M, K, N);
    if (why) throw new MusiqError(`matmul: variant "${variant}" cannot run [${M}×${K}]·[${K}×${N}] here: ${why}`);
  } else {
    variant = matmulVariant(rt, M, K, N);
  }

  const out = (opts.out as Tensor<'f32'> | undefined) ?? rt.empty([M, N]); // dtype checked above
  // A buffer bound writable may not also be bound read-only in the same dispatch.
  for (const [t, name] of [[x, 'x'], [w, 'w'], [opts.bias, 'bias']] as const) {
    if (t && t.buffer === out.buffer) throw new MusiqError(`matmul: out must not be the same tensor as ${name}`);
  }
  const residualInY = opts.residual !== undefined && opts.residual.buffer === out.buffer;
  const flags = (opts.bias ? BIAS : 0) | (opts.gelu ? GELU : 0) | (opts.residual ? (residualInY ? RESIDUAL_IN_Y : RESIDUAL) : 0);
  if (M === 0 || N === 0) return out;
  const v = VARIANTS[variant];
  if (variant === 'uniform') {
    const rows = uniformRows(K);
    // W is read from a texture copy (one per call, ~2 MB at most in MUSIQ's encoder; rgba16float for f16).
    const wTexture = textureRows(w.size, W_TEXTURE_WIDTH) <= rt.limits.maxTextureDimension2D ? rt.textureOf(w, W_TEXTURE_WIDTH) : undefined;
    for (let row0 = 0; row0 < M; row0 += rows) {
      const end = Math.min(M, row0 + rows);
      // The window holds rows row0 .. end - 1: aligned down to 256 bytes, and back from the
      // buffer's end where it would run past it (the pool's buffers are 8 KiB multiples here).
      const start = row0 * K * 4;
      const offset = Math.min(alignDown(start), alignDown(x.buffer.size - X_WINDOW));
      if (offset < 0 || end * K * 4 > offset + X_WINDOW) throw new MusiqError(`matmul: rows ${row0}..${end - 1} of a ${x.buffer.size}-byte X do not fit one uniform window`);
      rt.dispatch({
        kernel: v.kernel,
        constants: { TILE_ROWS: rows },
        includes: { 'lib/matmul_x4': 'lib/matmul_x4_uniform', ...(wTexture ? W_TEXTURE : halfW ? HALF_W : {}) },
        // p.M is the tile's end: the kernel stores rows row0 .. M - 1.
        uniforms: uniforms([end, N, K, flags, 0, K, row0, (start - offset) / 16]),
        // Absent operands are bound to w here (x is bound as a window), which the kernel never reads.
        buffers: [{ tensor: x, offset, size: X_WINDOW }, w, opts.bias ?? w, opts.residual && !residualInY ? opts.residual : w, out],
        textures: wTexture ? [wTexture] : undefined,
        workgroups: v.workgroups(M, N),
        label: `matmul_uniform${halfW ? '_w16' : ''} ${end - row0}×${K}×${N}`,
      });
    }
    return out;
  }
  const parts = kParts(rt, variant, K, flags);
  parts.forEach(([k0, k1], i) => {
    rt.dispatch({
      kernel: v.kernel,
      includes: halfW ? HALF_W : undefined,
      // A part after the first adds its sum to Y (bias and residual are in it already).
      uniforms: uniforms([M, N, K, i === 0 ? flags : RESIDUAL_IN_Y, k0, k1, 0, 0]),
      // Absent operands are bound to x, which the kernel then never reads (flags say so).
      buffers: [x, w, opts.bias ?? x, opts.residual && !residualInY ? opts.residual : x, out],
      workgroups: v.workgroups(M, N),
      // The part's own K first: bench/profile-groups.ts counts flop from M×K×N.
      label: `matmul_${variant}${halfW ? '_w16' : ''} ${M}×${k1 - k0}×${N}${parts.length > 1 ? ` of K ${K}` : ''}`,
    });
  });
  return out;
}

/**
 * The longest K one dispatch of a subgroup kernel sums on a CPU adapter. Each row tile of the
 * output reads all of W, so with K = 16384 (the embedding: a 25 MB W) every one of its 29 row
 * tiles fetched W from memory again; a 4096-row slice of W (6 MB) stays in the last-level cache
 * between them. lavapipe, 918×K×384, alternating: K = 4096 ran 51-57 GFLOP/s with X rows 16384
 * apart as with 4096, K = 16384 at once 32-44 GFLOP/s; the embedding in 4 parts 215-249 ms against
 * 305-326 in one. SwiftShader, compute-bound there, took the same time either way.
 */
const K_PART = 4096;

/** [kBegin, kEnd) of each dispatch: K split into K_PART-long parts where that was measured to pay. */
function kParts(rt: Runtime, variant: MatmulVariant, K: number, flags: number): [number, number][] {
  const cpu = isCpuAdapter(rt.adapter);
  // GELU applies to the whole sum, so a GELU epilogue cannot be split.
  if (!cpu || !variant.startsWith('subgroup') || K <= K_PART || (flags & GELU) !== 0) return [[0, K]];
  const parts: [number, number][] = [];
  for (let k = 0; k < K; k += K_PART) parts.push([k, Math.min(K, k + K_PART)]);
  return parts;
}

export interface TuneMatmulOptions {
  /** Persistent store (fileTuneCache() in Node, localStorageTuneCache() in browsers). */
  cache?: TuneCache;
  /** [M, K, N] to time; default a MUSIQ MLP shape (few tokens on a CPU adapter, 1024 on a GPU). */
  shape?: readonly [number, number, number];
  /** Measure again even if a choice is remembered. */
  retune?: boolean;
}

/**
 * Picks the fastest variant for this adapter by timing each one that can run `shape`, and
 * remembers it (in memory, and in `cache`). A remembered choice is returned without measuring,
 * and so is a known adapter's (knownBest) unless `retune`.
 * Costs ~2 s on lavapipe, plus ~4 s the first time Mesa compiles the kernels.
 */
export async function tuneMatmul(rt: Runtime, options: TuneMatmulOptions = {}): Promise<MatmulVariant> {
  const key = `${TUNE_VERSION}|${adapterKey(rt)}`;
  // A GPU is timed on the encoder's own shape (128 rows do not keep it busy enough to rank kernels),
  // in batches of runs that outlast the round trip; a CPU adapter's single run already does.
  const cpu = isCpuAdapter(rt.adapter);
  const [M, K, N] = options.shape ?? (cpu ? [128, 384, 1152] : [1024, 384, 1152]);
  // A tile measured by an earlier process (tuneMatmulTile) applies once this one is promoted.
  const tile = tile64OnCpu.has(adapterKey(rt)) ? undefined : await options.cache?.get(`${TILE_VERSION}|${adapterKey(rt)}`);
  if (tile === '64' || tile === '32') tile64OnCpu.set(adapterKey(rt), tile === '64');
  if (!options.retune) {
    const known = tuned.get(adapterKey(rt)) ?? (await options.cache?.get(key));
    if (known !== undefined && isVariant(known) && VARIANTS[known].unsupported(rt, M, K, N) === undefined) {
      tuned.set(adapterKey(rt), known);
      return known;
    }
  }
  const known = knownBest(rt);
  if (known && !options.retune) {
    tuned.set(adapterKey(rt), known);
    return known;
  }
  // The naive kernel is the benchmarks' baseline, never the fastest: timing it would only
  // add a second or so to tuning on a CPU adapter. subgroup64 is not a choice of its own:
  // it is the subgroup kernel's 64-row tile where wantsTile64() says, refining that choice.
  const variants = matmulVariantsFor(rt, M, K, N).filter((v) => v !== 'naive' && v !== 'subgroup64');
  const ms = await timeVariants(rt, variants, [M, K, N], cpu ? 0 : 10);
  let best: { variant: MatmulVariant; ms: number } | undefined;
  variants.forEach((variant, i) => {
    if (!best || ms[i] < best.ms) best = { variant, ms: ms[i] };
  });
  const choice = best?.variant ?? defaultVariant(rt);
  tuned.set(adapterKey(rt), choice);
  await options.cache?.set(key, choice);
  return choice;
}

/** Wall ms of one [M×K]·[K×N] + bias per variant, timed in turns (wallMsInTurns) on filled() operands. */
async function timeVariants(rt: Runtime, variants: readonly MatmulVariant[], [M, K, N]: readonly [number, number, number], minSampleMs: number, reps = 3): Promise<number[]> {
  const x = rt.upload(filled(M * K, 0.5), [M, K]);
  const w = rt.upload(filled(K * N, 0.25), [K, N]);
  const bias = rt.zeros([N]);
  const out = rt.empty([M, N]);
  try {
    return await wallMsInTurns(rt, variants.map((variant) => () => void matmul(rt, x, w, { bias, out, variant })), reps, minSampleMs);
  } finally {
    for (const t of [x, w, bias, out]) t.dispose();
  }
}

/** Deterministic non-trivial data: timings do not depend on values, but NaN/denormals could. */
function filled(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (((i * 7919) % 97) / 97 - 0.5);
  return a;
}
