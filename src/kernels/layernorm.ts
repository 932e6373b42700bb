import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

export const LAYERNORM_VARIANTS = ['tree', 'rows'] as const;
export type LayernormVariant = (typeof LAYERNORM_VARIANTS)[number];

/**
 * 'tree' (layernorm.wgsl): a workgroup per row, summing through a workgroup-memory tree, as GPUs
 * want. 'rows' (layernorm_rows.wgsl): an invocation per row, sums in registers, for CPU adapters,
 * where the tree's barriers cost more than the row's loads: at 919×384, alternating in one
 * process, 0.57-0.73 ms against 1.6-2.0 for the 8-lane tree on lavapipe, 2.8-3.1 against
 * 8.7-9.2 on SwiftShader (29 of them per image). It needs D % 8 == 0 (MUSIQ's D is 384).
 */
export function layernormVariantsFor(D: number): LayernormVariant[] {
  return D % 8 === 0 ? ['tree', 'rows'] : ['tree'];
}

export function layernormVariant(rt: Runtime, D: number): LayernormVariant {
  return rt.adapter.isFallback && layernormVariantsFor(D).includes('rows') ? 'rows' : 'tree';
}

/**
 * The tree's invocations per row. On CPU implementations each workgroup barrier of the
 * reduction tree costs more than the loads: one 8-lane workgroup (a single SIMD group on
 * lavapipe) is ~3× faster there than 64 lanes (`musiq bench`). GPUs get the usual 64.
 */
function workgroupSize(rt: Runtime): number {
  return rt.adapter.isFallback ? 8 : 64;
}

/**
 * LayerNorm over the last dim of x [R, D]: (x − mean)·rsqrt(var + eps)·scale + bias
 * (spec §3.5; eps 1e-6 in the encoder). `rows` normalises only the first rows (the final
 * norm needs only CLS, row 0); the result is [rows, D].
 *
 * Variance: two-pass Σ(x − mean)²/D. Flax 0.3.3 computes E[x²] − E[x]² in float32, whose
 * error relative to the exact variance is ~ε·(1 + mean²/var); PyTorch (which produced the
 * fixtures' expected scores) uses a Welford/two-pass variance, ~ε. Neither original can be
 * reproduced bit for bit (XLA's reduction order is unspecified), so the closest we can get
 * to both is the exact value: two-pass, which also stays exact when |mean| ≫ std, where
 * the one-pass formula in f32 loses every digit. `variant` forces a kernel (tests, `musiq bench`).
 */
export function layernorm(rt: Runtime, x: Tensor, scale: Tensor, bias: Tensor, eps: number, out?: Tensor, rows?: number, variant?: LayernormVariant): Tensor<'f32'> {
  const D = x.shape.at(-1) ?? 0;
  const R = D > 0 ? x.size / D : 0;
  const n = rows ?? R;
  if (x.dtype !== 'f32' || x.shape.length < 1 || D < 1) throw new MusiqError(`layernorm: x must be f32 [rows, D], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (scale.size !== D || bias.size !== D || scale.dtype !== 'f32' || bias.dtype !== 'f32') {
    throw new MusiqError(`layernorm: scale and bias must be f32 [${D}], got [${scale.shape.join(', ')}] and [${bias.shape.join(', ')}]`);
  }
  if (!Number.isInteger(n) || n < 0 || n > R) throw new MusiqError(`layernorm: rows ${rows} out of range 0..${R}`);
  if (!(eps >= 0)) throw new MusiqError(`layernorm: eps must be ≥ 0, got ${eps}`);
  const y = (out ?? rt.empty([n, D])) as Tensor<'f32'>;
  if (y.size !== n * D || y.dtype !== 'f32') throw new MusiqError(`layernorm: out must be f32 [${n}, ${D}], got [${y.shape.join(', ')}]`);
  if (n === 0) return y;
  const v = variant ?? layernormVariant(rt, D);
  if (!layernormVariantsFor(D).includes(v)) throw new MusiqError(`layernorm: the ${v} kernel needs D % 8 == 0, got D = ${D}`);
  if (v === 'rows') {
    rt.dispatch({
      kernel: 'layernorm_rows',
      uniforms: uniforms([n, D, { f32: eps }, 0]),
      buffers: [x, scale, bias, y],
      workgroups: grid(Math.ceil(n / 64)),
    });
    return y;
  }
  rt.dispatch({
    kernel: 'layernorm',
    constants: { WG: workgroupSize(rt) },
    uniforms: uniforms([n, D, { f32: eps }, 0]),
    buffers: [x, scale, bias, y],
    workgroups: grid(n),
  });
  return y;
}
