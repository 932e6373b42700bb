import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/** x as `pixels` RGB pixels → [pixels, 4], the fourth channel zero. */
export function padRgb0(rt: Runtime, x: Tensor, pixels: number): Tensor {
  if (x.dtype !== 'f32' || x.size !== pixels * 3) throw new MusiqError(`padRgb0: input of ${x.size} ${x.dtype} values is not ${pixels} RGB f32 pixels`);
  const y = rt.empty([pixels, 4]);
  if (pixels === 0) return y;
  rt.dispatch({ kernel: 'pad_rgb0', uniforms: uniforms([pixels]), buffers: [x, y], workgroups: grid(Math.ceil(pixels / 256)) });
  return y;
}
