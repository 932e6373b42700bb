// Benchmarked by `musiq bench` (src/bench/cases.ts) on the AVA head's 10 logits.
import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/** Softmax over the last dim of x [R, C] (AVA: probabilities of scores 1..10, spec §3.6). */
export function softmaxRows(rt: Runtime, x: Tensor): Tensor<'f32'> {
  const C = x.shape.at(-1) ?? 0;
  if (x.dtype !== 'f32' || C < 1) throw new MusiqError(`softmaxRows: x must be f32 [rows, C ≥ 1], got ${x.dtype} [${x.shape.join(', ')}]`);
  const R = x.size / C;
  const y = rt.empty(x.shape);
  if (R === 0) return y;
  rt.dispatch({ kernel: 'softmax', uniforms: uniforms([R, C, 0, 0]), buffers: [x, y], workgroups: grid(Math.ceil(R / 64)) });
  return y;
}
