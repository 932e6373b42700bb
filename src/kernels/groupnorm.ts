// Benchmarked by `musiq bench` (src/bench/cases.ts) on each of the stem's GroupNorms.
import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';
import { samePadding } from './conv2d.ts';
import { maxPool } from './maxpool.ts';

const WG = 64; // groupnorm.wgsl's and groupnorm_vec4.wgsl's workgroup size

export interface GroupNormOptions {
  /** 1e-6 for gn_root, 1e-4 inside the bottleneck unit (spec §3.2). */
  eps: number;
  /** 32 for every MUSIQ GroupNorm. */
  groups?: number;
  relu?: boolean;
  /** y = ReLU(GN(x) + residual): the bottleneck unit's end (implies the ReLU). Same size as x. */
  residual?: Tensor;
  /**
   * Max-pool the result (SAME padding, as maxPool()) instead of writing it at full resolution:
   * x is [P, H, W, C] and the output [P, ceil(H/stride), ceil(W/stride), C]. The stem's root
   * (window 3, stride 2): the normalised tensor is 4× the pooled one, and on CPU adapters writing
   * it and reading it back cost as much as the pool. Not with `residual`.
   */
  pool?: { window: number; stride: number };
  /** Written instead of a new tensor of the output's shape; must hold as many values and may not be x. */
  out?: Tensor;
}

/**
 * GroupNorm of x [P, ...spatial, C] per patch (first axis) and group of C/groups consecutive
 * channels, with per-channel scale and bias [C].
 */
export function groupNorm(rt: Runtime, x: Tensor, scale: Tensor, bias: Tensor, opts: GroupNormOptions): Tensor {
  const groups = opts.groups ?? 32;
  if (x.shape.length < 2) throw new MusiqError(`groupNorm: input shape [${x.shape.join(', ')}] has no patch and channel axes`);
  const patches = x.shape[0], channels = x.shape[x.shape.length - 1];
  const spatial = x.size / (patches * channels || 1);
  if (channels % groups !== 0) throw new MusiqError(`groupNorm: ${channels} channels do not split into ${groups} groups`);
  if (scale.size !== channels || bias.size !== channels) {
    throw new MusiqError(`groupNorm: scale/bias hold ${scale.size}/${bias.size} values for ${channels} channels`);
  }
  if (opts.residual && opts.residual.size !== x.size) throw new MusiqError(`groupNorm: residual holds ${opts.residual.size} values, input ${x.size}`);
  if (!(opts.eps > 0)) throw new MusiqError(`groupNorm: eps must be positive, got ${opts.eps}`);
  const pool = opts.pool && poolShape(x, opts.pool, opts.residual !== undefined);
  const outShape = pool ? pool.shape : x.shape;
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const out = opts.out ?? rt.empty(outShape);
  if (out.size !== outSize) throw new MusiqError(`groupNorm: output tensor holds ${out.size} values, needs ${outSize}`);
  if (out === x || out === opts.residual) throw new MusiqError('groupNorm: output may not alias an input');
  const cpg = channels / groups;
  const label = `groupnorm ${channels}${opts.residual ? '+res' : ''}${opts.relu || opts.residual ? '+relu' : ''}${pool ? '+pool' : ''}`;
  const entry = opts.residual ? 'main_residual' : pool ? 'main_pool' : 'main';
  const buffers = opts.residual ? [x, scale, bias, out, opts.residual] : [x, scale, bias, out];
  const constants: Record<string, number> = opts.residual ? {} : { RELU: opts.relu ? 1 : 0 };
  const vec4 = channels % 4 === 0 && (cpg <= 2 || cpg % 4 === 0);
  if (pool && !vec4) {
    // groupnorm.wgsl has no pooling entry: normalise at full resolution, then pool.
    const full = groupNorm(rt, x, scale, bias, { ...opts, pool: undefined, out: undefined });
    maxPool(rt, full, { ...opts.pool, out });
    full.dispose();
    return out;
  }
  if (vec4) {
    // groupnorm_vec4.wgsl: one invocation per patch and unit of max(cpg, 4) channels.
    const unit = Math.max(cpg, 4);
    const units = (patches * channels) / unit;
    rt.dispatch({
      kernel: 'groupnorm_vec4',
      entry,
      constants: { ...constants, CPG: cpg },
      // main_pool's geometry after the common fields (zeros for the other entries).
      uniforms: uniforms([units, spatial, channels / 4, unit / 4, { f32: opts.eps }, ...(pool ? pool.params : [0, 0, 0, 0, 0, 0, 0, 0])]),
      buffers,
      workgroups: grid(Math.ceil(units / WG)),
      label,
    });
  } else {
    // groupnorm.wgsl: one invocation per patch and group, any channel count.
    const total = patches * groups;
    rt.dispatch({
      kernel: 'groupnorm',
      entry,
      constants,
      uniforms: uniforms([total, spatial, channels, groups, { f32: opts.eps }]),
      buffers,
      workgroups: grid(Math.ceil(total / WG)),
      label,
    });
  }
  return out;
}

/** The pooled output shape and main_pool's geometry uniforms (h, w, ho, wo, k, stride, padTop, padLeft). */
function poolShape(x: Tensor, pool: { window: number; stride: number }, residual: boolean): { shape: number[]; params: number[] } {
  const { window: k, stride } = pool;
  if (residual) throw new MusiqError('groupNorm: pool and residual cannot be combined');
  if (x.shape.length !== 4) throw new MusiqError(`groupNorm: pooling needs an input [P, H, W, C], got [${x.shape.join(', ')}]`);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(stride) || stride < 1) throw new MusiqError(`groupNorm: bad pool window ${k} / stride ${stride}`);
  const [p, h, w, c] = x.shape;
  const py = samePadding(h, k, stride), px = samePadding(w, k, stride);
  return { shape: [p, py.out, px.out, c], params: [h, w, py.out, px.out, k, stride, py.before, px.before] };
}
