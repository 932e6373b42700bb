import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/** tanh-GELU over every element of x (spec §3.5); `out` must not alias x. */
export function gelu(rt: Runtime, x: Tensor, out?: Tensor): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new MusiqError(`gelu: x must be f32, got ${x.dtype}`);
  const y = (out ?? rt.empty(x.shape)) as Tensor<'f32'>;
  if (y.size !== x.size || y.dtype !== 'f32') throw new MusiqError(`gelu: out must be f32 with ${x.size} values, got ${y.dtype} [${y.shape.join(', ')}]`);
  if (y === x) throw new MusiqError('gelu: out must not be x (WebGPU cannot bind one buffer as input and output)');
  if (x.size === 0) return y;
  rt.dispatch({ kernel: 'gelu', uniforms: uniforms([x.size, 0, 0, 0]), buffers: [x, y], workgroups: grid(Math.ceil(x.size / 256)) });
  return y;
}
