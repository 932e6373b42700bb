// Benchmarked by `musiq bench` (src/bench/cases.ts) on the stem's two convolutions.
import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { isCpuAdapter, subgroupProblem } from '../runtime/device.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/**
 * blocked: conv2d.wgsl, any adapter. subgroup: conv2d_subgroup.wgsl, CPU adapters with ≥ 8-lane
 * subgroups. subgroup4: conv2d_subgroup4.wgsl, CPU adapters with ≥ 4-lane subgroups. gemm4:
 * conv2d_gemm4.wgsl, ≥ 4-lane subgroups and cin % 4 == 0; SwiftShader's choice.
 */
export const CONV2D_VARIANTS = ['blocked', 'subgroup', 'subgroup4', 'gemm4'] as const;
export type Conv2dVariant = (typeof CONV2D_VARIANTS)[number];

/** SAME padding (TF/XLA): out = ceil(in / stride); the smaller half of the total pad goes before. */
export function samePadding(size: number, k: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  return { out, before: Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2) };
}

export interface Conv2dOptions {
  stride?: number;
  /** [P, H, W, Cin] when `x`'s own shape is not (e.g. patches stored as [P, 32·32·3]). */
  inputShape?: readonly [number, number, number, number];
  /** Written instead of a new tensor; must hold P·Ho·Wo·Cout values (its shape is kept). */
  out?: Tensor;
  /** Force a kernel (tests, benchmarks); by default the adapter decides. */
  variant?: Conv2dVariant;
}

const LANES = { subgroup: 8, subgroup4: 4, gemm4: 4 } as const;
const VEC4_INPUT = { 'lib/conv_input': 'lib/conv_input_vec4' };

/**
 * Output pixels per workgroup (one subgroup) and vec4 channel columns per lane, as the kernels
 * are written: conv2d_subgroup.wgsl 32 pixels × 1 column, conv2d_subgroup4.wgsl 12 × 4,
 * conv2d_gemm4.wgsl 32 × 4.
 */
export const CONV2D_SUBGROUP_TILES = {
  subgroup: { pixels: 32, columns: 1 },
  subgroup4: { pixels: 12, columns: 4 },
  gemm4: { pixels: 32, columns: 4 },
} as const;

/**
 * The subgroup kernels are built for CPU backends, where loads cost more than arithmetic (the
 * 8-lane one where subgroups have 8 lanes, else the 4-lane one); GPUs get the register-blocked
 * kernel with 64-invocation workgroups. SwiftShader takes conv2d_gemm4 where cin % 4 == 0 (its
 * header says why). Without `cin` the answer is for a multiple of 4, as both of the stem's
 * convolutions have there (rootChannels).
 * Tried, not kept (2026-12-05, Zen 1, 918 patches, in turns): im2col (the rows written out by a
 * kernel, in 32 MiB chunks) and then the adapter's matmul, which runs the stem's shapes at ~5
 * GFLOP/s on SwiftShader against these kernels' 2-3. SwiftShader: the 3×3 convolution 1.50-1.54 s
 * against 1.80-1.86, but the 7×7 root (RGB0) 2.6-3.1 s against 2.5-3.1, its im2col alone ~1.2 s
 * (49 loop iterations a pixel, a 4-lane scatter a vec4); lavapipe: 0.55 s against 0.47 and 0.86
 * against 0.70. ~0.3 s of SwiftShader's ~19 s an image was not worth a kernel and 32 MiB more.
 * Nor the blocked kernel reading its weights from a texture copy under Deno (as matmul_uniform
 * reads W; 918 patches, in turns): 3×3 1.12 s against 1.10, 7×7/2 1.55 against 1.57.
 */
export function conv2dVariant(rt: Runtime, cin = 4): Conv2dVariant {
  const cpu = isCpuAdapter(rt.adapter);
  if (!cpu) return 'blocked';
  if (subgroupProblem(rt, 8) === undefined) return 'subgroup';
  if (subgroupProblem(rt, 4) !== undefined) return 'blocked';
  return rt.adapter.architecture === 'swiftshader' && cin % 4 === 0 ? 'gemm4' : 'subgroup4';
}

/** The variants this runtime can run with `cin` input channels (the benchmark times each). */
export function conv2dVariants(rt: Runtime, cin: number): Conv2dVariant[] {
  return CONV2D_VARIANTS.filter((v) => v === 'blocked' || (subgroupProblem(rt, LANES[v]) === undefined && (v !== 'gemm4' || cin % 4 === 0)));
}

/**
 * SAME-padded convolution without bias: x NHWC [P, H, W, Cin] ⊛ w HWIO [kh, kw, Cin, Cout] →
 * [P, Ho, Wo, Cout], Ho = ceil(H / stride). Cout must be a multiple of 4.
 */
export function conv2d(rt: Runtime, x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const stride = opts.stride ?? 1;
  if (!opts.inputShape && x.shape.length !== 4) throw new MusiqError(`conv2d: input shape [${x.shape.join(', ')}] is not [P, H, W, C]`);
  const [p, h, wd, cin] = opts.inputShape ?? (x.shape as [number, number, number, number]);
  if (w.shape.length !== 4) throw new MusiqError(`conv2d: kernel shape [${w.shape.join(', ')}] is not [kh, kw, cin, cout]`);
  const [kh, kw, kcin, cout] = w.shape;
  if (p * h * wd * cin !== x.size) throw new MusiqError(`conv2d: input of ${x.size} values is not [${p}, ${h}, ${wd}, ${cin}]`);
  if (kcin !== cin) throw new MusiqError(`conv2d: kernel expects ${kcin} input channels, input has ${cin}`);
  if (cout % 4 !== 0 || cout === 0) throw new MusiqError(`conv2d: output channels ${cout} are not a positive multiple of 4`);
  if (!Number.isInteger(stride) || stride < 1) throw new MusiqError(`conv2d: bad stride ${stride}`);
  const variant = opts.variant ?? conv2dVariant(rt, cin);
  const why = variant === 'blocked' ? undefined : subgroupProblem(rt, LANES[variant]);
  if (why) throw new MusiqError(`conv2d: the ${variant} kernel cannot run here: ${why}`);
  if (variant === 'gemm4' && cin % 4 !== 0) throw new MusiqError(`conv2d: the gemm4 kernel needs a multiple of 4 input channels, got ${cin}`);
  const py = samePadding(h, kh, stride), px = samePadding(wd, kw, stride);
  const rows = p * py.out * px.out;
  const out = opts.out ?? rt.empty([p, py.out, px.out, cout]);
  if (out.size !== rows * cout) throw new MusiqError(`conv2d: output tensor holds ${out.size} values, needs ${rows * cout}`);
  if (out === x || out === w) throw new MusiqError('conv2d: output may not alias an input');
  if (rows === 0) return out;
  const cout4 = cout / 4;
  // The output pixel count lets bench/profile-groups.ts count 2·px·kh·kw·Cin·Cout flop.
  const label = `conv2d ${kh}x${kw}/${stride} ${cin}→${cout} ${rows}px`;
  if (variant !== 'blocked') {
    const tile = CONV2D_SUBGROUP_TILES[variant];
    rt.dispatch({
      kernel: variant === 'subgroup' ? 'conv2d_subgroup' : variant === 'gemm4' ? 'conv2d_gemm4' : 'conv2d_subgroup4',
      // Whole vec4s of input channels: one load for 4 inputs (lib/conv_input_vec4).
      includes: cin % 4 === 0 ? VEC4_INPUT : undefined,
      uniforms: uniforms([rows, h, wd, cin, py.out, px.out, cout4, kh * kw * cin, kh, kw, stride, py.before, px.before]),
      buffers: [x, w, out],
      workgroups: [...grid(Math.ceil(rows / tile.pixels)), Math.ceil(cout4 / (LANES[variant] * tile.columns))],
      label,
    });
  } else {
    // conv2d.wgsl: 64-invocation workgroups, each invocation 8 pixels × 2 vec4 channel columns.
    const colBlocks = Math.ceil(cout4 / 2);
    rt.dispatch({
      kernel: 'conv2d',
      uniforms: uniforms([rows, h, wd, cin, py.out, px.out, cout4, colBlocks, kh, kw, stride, py.before, px.before]),
      buffers: [x, w, out],
      workgroups: grid(Math.ceil((Math.ceil(rows / 8) * colBlocks) / 64)),
      label,
    });
  }
  return out;
}
