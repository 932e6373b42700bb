// Benchmarked by `musiq bench` (src/bench/cases.ts) on the stem's pool.
import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';
import { samePadding } from './conv2d.ts';

const WG = 64; // maxpool.wgsl's workgroup size

export interface MaxPoolOptions {
  /** Window side, 3 in the stem. */
  window?: number;
  /** 2 in the stem. */
  stride?: number;
  out?: Tensor;
}

/** SAME-padded max-pool of x NHWC [P, H, W, C] → [P, ceil(H/s), ceil(W/s), C]; padding never wins. */
export function maxPool(rt: Runtime, x: Tensor, opts: MaxPoolOptions = {}): Tensor {
  const k = opts.window ?? 3, stride = opts.stride ?? 2;
  if (x.shape.length !== 4) throw new MusiqError(`maxPool: input shape [${x.shape.join(', ')}] is not [P, H, W, C]`);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(stride) || stride < 1) throw new MusiqError(`maxPool: bad window ${k} / stride ${stride}`);
  const [p, h, w, c] = x.shape;
  const py = samePadding(h, k, stride), px = samePadding(w, k, stride);
  const total = p * py.out * px.out * c;
  const out = opts.out ?? rt.empty([p, py.out, px.out, c]);
  if (out.size !== total) throw new MusiqError(`maxPool: output tensor holds ${out.size} values, needs ${total}`);
  if (out === x) throw new MusiqError('maxPool: output may not alias the input');
  // 4 channels per invocation when they divide evenly (maxpool.wgsl's main_vec4).
  const lanes = c % 4 === 0 ? 4 : 1;
  rt.dispatch({
    kernel: 'maxpool',
    entry: lanes === 4 ? 'main_vec4' : 'main',
    uniforms: uniforms([total / lanes, h, w, c / lanes, py.out, px.out, k, stride, py.before, px.before]),
    buffers: [x, out],
    workgroups: grid(Math.ceil(total / lanes / WG)),
    label: `maxpool ${k}x${k}/${stride}`,
  });
  return out;
}
