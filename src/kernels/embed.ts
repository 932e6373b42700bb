import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/**
 * The encoder input [N+1, D] (spec §3.4): row 0 = CLS with no embedding added, row t+1 =
 * (patchEmb[t] + pos[spatial[t]]) + scaleEmb[scaleIds[t]]. Ids past a table give a NaN row
 * (the GPU cannot throw); check ids on the CPU first with checkTokenIds.
 */
export function embedTokens(rt: Runtime, patchEmb: Tensor, spatial: Tensor, scaleIds: Tensor, pos: Tensor, scaleEmb: Tensor, cls: Tensor): Tensor {
  const D = cls.size;
  const N = patchEmb.shape[0] ?? 0;
  const table = (t: Tensor) => t.dtype === 'f32' && D > 0 && t.size % D === 0 && t.size > 0;
  if (patchEmb.dtype !== 'f32' || patchEmb.shape.length !== 2 || patchEmb.shape[1] !== D) {
    throw new MusiqError(`embedTokens: patch embeddings must be f32 [N, ${D}] (D from cls), got ${patchEmb.dtype} [${patchEmb.shape.join(', ')}]`);
  }
  if (!table(pos) || !table(scaleEmb) || cls.dtype !== 'f32') {
    throw new MusiqError(`embedTokens: position [${pos.shape.join(', ')}], scale [${scaleEmb.shape.join(', ')}] and cls [${cls.shape.join(', ')}] tables must be f32 with rows of ${D}`);
  }
  for (const [name, ids] of [['spatial', spatial], ['scaleIds', scaleIds]] as const) {
    if (ids.dtype !== 'u32' || ids.size !== N) throw new MusiqError(`embedTokens: ${name} must be u32 [${N}], got ${ids.dtype} [${ids.shape.join(', ')}]`);
  }
  const y = rt.empty([N + 1, D]);
  rt.dispatch({
    kernel: 'embed',
    uniforms: uniforms([N, D, pos.size / D, scaleEmb.size / D]),
    buffers: [patchEmb, spatial, scaleIds, pos, scaleEmb, cls, y],
    workgroups: grid(Math.ceil(((N + 1) * D) / 256)),
  });
  return y;
}

/** Throws a MusiqError naming the first token whose spatial or scale id is past its table. */
export function checkTokenIds(spatial: ArrayLike<number>, scaleIds: ArrayLike<number>, positions: number, scales: number): void {
  for (let t = 0; t < spatial.length; t++) {
    if (!(spatial[t] < positions)) throw new MusiqError(`musiq: token ${t} has spatial position ${spatial[t]}, but the position table has ${positions} rows`);
    if (!(scaleIds[t] < scales)) throw new MusiqError(`musiq: token ${t} has scale id ${scaleIds[t]}, but the scale table has ${scales} rows`);
  }
}
