// float64 CPU reference of the whole patch stem (spec §3.2), from the raw checkpoint arrays
// (keys relative to opt/target/). It standardises the conv kernels itself, in float64.
import { conv2dRef } from './conv2d.ref.ts';
import { groupNormRef } from './groupnorm.ref.ts';
import { maxPoolRef } from './maxpool.ref.ts';

type Shape4 = [number, number, number, number];

/** StdConv in float64: per cout over (kh, kw, cin), (w − mean) / (population std + 1e-5). */
function standardize(k: Float32Array, cout: number): Float64Array {
  const n = k.length / cout;
  const out = new Float64Array(k.length);
  for (let o = 0; o < cout; o++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += k[i * cout + o] / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (k[i * cout + o] - mean) ** 2 / n;
    for (let i = 0; i < n; i++) out[i * cout + o] = (k[i * cout + o] - mean) / (Math.sqrt(v) + 1e-5);
  }
  return out;
}

/** One 32×32×3 patch in (y, x, c) order → 8·8·4W features in (h, w, c) order. */
export function stemRef(weights: Readonly<Record<string, Float32Array>>, patch: Float32Array): Float64Array {
  const get = (key: string): Float32Array => {
    const v = weights[key];
    if (!v) throw new Error(`stemRef: missing ${key}`);
    return v;
  };
  const W = get('gn_root/scale').length;
  const u = 'block1/unit1/';
  const conv = (x: ArrayLike<number>, shape: Shape4, key: string, k: number, cin: number, cout: number, stride = 1) =>
    conv2dRef(x, shape, standardize(get(key), cout), [k, k, cin, cout], stride);
  const gn = (x: ArrayLike<number>, shape: Shape4, name: string, eps: number, relu = false, residual?: ArrayLike<number>) =>
    groupNormRef(x, [shape[0], shape[1] * shape[2], shape[3]], get(`${name}/scale`), get(`${name}/bias`), { eps, relu, residual });

  const root = conv(patch, [1, 32, 32, 3], 'conv_root/kernel', 7, 3, W, 2);
  const pooled = maxPoolRef(gn(root.out, root.shape, 'gn_root', 1e-6, true), root.shape, 3, 2);
  const x = pooled.out, xs = pooled.shape;
  const proj = conv(x, xs, `${u}conv_proj/kernel`, 1, W, 4 * W);
  const residual = gn(proj.out, proj.shape, `${u}gn_proj`, 1e-4);
  const c1 = conv(x, xs, `${u}conv1/kernel`, 1, W, W);
  const a1 = gn(c1.out, c1.shape, `${u}gn1`, 1e-4, true);
  const c2 = conv(a1, c1.shape, `${u}conv2/kernel`, 3, W, W);
  const a2 = gn(c2.out, c2.shape, `${u}gn2`, 1e-4, true);
  const c3 = conv(a2, c2.shape, `${u}conv3/kernel`, 1, W, 4 * W);
  return gn(c3.out, c3.shape, `${u}gn3`, 1e-4, true, residual);
}
