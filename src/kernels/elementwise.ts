import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/** y = alpha·a + beta·b over all elements (a, b, y of equal size; y may alias neither). */
export function axpby(rt: Runtime, a: Tensor, b: Tensor, alpha = 1, beta = 1, y: Tensor = rt.empty(a.shape)): Tensor {
  if (a.size !== b.size || a.size !== y.size) throw new MusiqError(`axpby: sizes differ (${a.size}, ${b.size}, ${y.size})`);
  rt.dispatch({
    kernel: 'elementwise',
    uniforms: uniforms([a.size, { f32: alpha }, { f32: beta }, 0]),
    buffers: [a, b, y],
    workgroups: grid(Math.ceil(a.size / 256)),
  });
  return y;
}
