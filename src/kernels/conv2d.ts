import { grid, uniforms, type Runtime, type Tensor } from '../runtime/runtime.ts';
import { MusiqError } from '../runtime/errors.ts';

const WG = 64; // conv2d.wgsl's workgroup size
const ROWS = 8; // output pixels per invocation
const COLS4 = 2; // vec4 output-channel columns per invocation

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
}

/**
 * SAME-padded convolution without bias: x NHWC [P, H, W, Cin] ⊛ w HWIO [kh, kw, Cin, Cout] →
 * [P, Ho, Wo, Cout], Ho = ceil(H / stride). Cout must be a multiple of 4.
 */
export function conv2d(rt: Runtime, x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const stride = opts.stride ?? 1;
  const [p, h, wd, cin] = opts.inputShape ?? (x.shape as [number, number, number, number]);
  if (w.shape.length !== 4) throw new MusiqError(`conv2d: kernel shape [${w.shape.join(', ')}] is not [kh, kw, cin, cout]`);
  const [kh, kw, kcin, cout] = w.shape;
  if (!opts.inputShape && x.shape.length !== 4) throw new MusiqError(`conv2d: input shape [${x.shape.join(', ')}] is not [P, H, W, C]`);
  if (p * h * wd * cin !== x.size) throw new MusiqError(`conv2d: input of ${x.size} values is not [${p}, ${h}, ${wd}, ${cin}]`);
  if (kcin !== cin) throw new MusiqError(`conv2d: kernel expects ${kcin} input channels, input has ${cin}`);
  if (cout % 4 !== 0 || cout === 0) throw new MusiqError(`conv2d: output channels ${cout} are not a positive multiple of 4`);
  if (!Number.isInteger(stride) || stride < 1) throw new MusiqError(`conv2d: bad stride ${stride}`);
  const py = samePadding(h, kh, stride), px = samePadding(wd, kw, stride);
  const rows = p * py.out * px.out;
  const out = opts.out ?? rt.empty([p, py.out, px.out, cout]);
  if (out.size !== rows * cout) throw new MusiqError(`conv2d: output tensor holds ${out.size} values, needs ${rows * cout}`);
  const cout4 = cout / 4, colBlocks = Math.ceil(cout4 / COLS4);
  const invocations = Math.ceil(rows / ROWS) * colBlocks;
  rt.dispatch({
    kernel: 'conv2d',
    uniforms: uniforms([rows, h, wd, cin, py.out, px.out, cout4, colBlocks, kh, kw, stride, py.before, px.before]),
    buffers: [x, w, out],
    workgroups: grid(Math.ceil(invocations / WG)),
    label: `conv2d ${kh}x${kw}/${stride} ${cin}→${cout}`,
  });
  return out;
}
