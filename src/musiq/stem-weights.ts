// The ResNet patch stem's weights on the GPU (spec §3.2, §4.2). Every conv kernel is
// weight-standardised ONCE here on the CPU, so the GPU convs are plain convolutions.
import { MusiqError } from '../common/errors.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { rootChannels, type GroupNormWeights, type StemWeights } from '../kernels/stem.ts';

/**
 * StdConv: per output channel, over (kh, kw, cin), w' = (w − mean) / (std + 1e-5) with the
 * population std (ddof 0) and eps added to the std, not the variance. Computed in float64 so the
 * only rounding is the final store to f32.
 */
export function standardizeConv(kernel: Float32Array, shape: readonly [number, number, number, number]): Float32Array {
  const [kh, kw, cin, cout] = shape;
  const k = kh * kw * cin;
  if (kernel.length !== k * cout) {
    throw new MusiqError(`standardizeConv: kernel has ${kernel.length} values, shape [${shape.join(', ')}] needs ${k * cout}`);
  }
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < cout; o++) {
    let sum = 0;
    for (let i = 0; i < k; i++) sum += kernel[i * cout + o];
    const mean = sum / k;
    let sq = 0;
    for (let i = 0; i < k; i++) sq += (kernel[i * cout + o] - mean) ** 2;
    const denom = Math.sqrt(sq / k) + 1e-5;
    for (let i = 0; i < k; i++) out[i * cout + o] = (kernel[i * cout + o] - mean) / denom;
  }
  return out;
}

/** HWIO [kh, kw, cin, cout] → [kh, kw, cinTo, cout], the added input channels' rows zero. */
function padInputChannels(kernel: Float32Array, [kh, kw, cin, cout]: readonly [number, number, number, number], cinTo: number): Float32Array {
  const out = new Float32Array(kh * kw * cinTo * cout);
  for (let tap = 0; tap < kh * kw; tap++) out.set(kernel.subarray(tap * cin * cout, (tap + 1) * cin * cout), tap * cinTo * cout);
  return out;
}

/** Checkpoint keys (relative to opt/target/) and shapes of the stem for a given width. */
export function stemKeyShapes(stemWidth: number): Map<string, number[]> {
  const w = stemWidth, o = 4 * stemWidth;
  const gn = (name: string, c: number): [string, number[]][] => [
    [`${name}/scale`, [1, 1, 1, c]],
    [`${name}/bias`, [1, 1, 1, c]],
  ];
  const u = 'block1/unit1';
  return new Map<string, number[]>([
    ['conv_root/kernel', [7, 7, 3, w]],
    ...gn('gn_root', w),
    [`${u}/conv_proj/kernel`, [1, 1, w, o]],
    ...gn(`${u}/gn_proj`, o),
    [`${u}/conv1/kernel`, [1, 1, w, w]],
    ...gn(`${u}/gn1`, w),
    [`${u}/conv2/kernel`, [3, 3, w, w]],
    ...gn(`${u}/gn2`, w),
    [`${u}/conv3/kernel`, [1, 1, w, o]],
    ...gn(`${u}/gn3`, o),
  ]);
}

/**
 * Reads the 15 stem tensors through `read` (keys relative to opt/target/), checks their sizes,
 * standardises the convs and uploads everything. GroupNorm needs 32 groups, so stemWidth must be
 * a positive multiple of 32 (64 for the real checkpoints, 32 for the tiny fixtures).
 */
export async function uploadStemWeights(rt: Runtime, read: (key: string) => Promise<Float32Array>, stemWidth: number): Promise<StemWeights> {
  if (!Number.isInteger(stemWidth) || stemWidth <= 0 || stemWidth % 32 !== 0) {
    throw new MusiqError(`stem: width ${stemWidth} is not a positive multiple of 32 (GroupNorm uses 32 groups)`);
  }
  const shapes = stemKeyShapes(stemWidth);
  const host = new Map<string, Float32Array>();
  for (const [key, shape] of shapes) {
    const data = await read(key);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new MusiqError(`stem: checkpoint tensor ${key} has ${data.length} values, expected shape (${shape.join(', ')}) = ${n} for stem width ${stemWidth}`);
    }
    host.set(key, data);
  }
  const uploaded: Tensor[] = [];
  const put = (data: Float32Array, shape: number[]): Tensor => {
    const t = rt.upload(data, shape);
    uploaded.push(t);
    return t;
  };
  const conv = (key: string, padTo?: number): Tensor => {
    const shape = shapes.get(key) as [number, number, number, number];
    const [kh, kw, cin, cout] = shape;
    const std = standardizeConv(host.get(key)!, shape);
    if (padTo && padTo > cin) return put(padInputChannels(std, shape, padTo), [kh, kw, padTo, cout]);
    return put(std, kh === 1 && kw === 1 ? [cin, cout] : shape);
  };
  const gn = (name: string): GroupNormWeights => {
    const c = shapes.get(`${name}/scale`)![3];
    return { scale: put(host.get(`${name}/scale`)!, [c]), bias: put(host.get(`${name}/bias`)!, [c]) };
  };
  const u = 'block1/unit1';
  try {
    return {
      stemWidth,
      // Standardised over its own 3 input channels first: the zero ones only pad (rootChannels).
      convRoot: conv('conv_root/kernel', rootChannels(rt)),
      gnRoot: gn('gn_root'),
      convProj: conv(`${u}/conv_proj/kernel`),
      gnProj: gn(`${u}/gn_proj`),
      conv1: conv(`${u}/conv1/kernel`),
      gn1: gn(`${u}/gn1`),
      conv2: conv(`${u}/conv2/kernel`),
      gn2: gn(`${u}/gn2`),
      conv3: conv(`${u}/conv3/kernel`),
      gn3: gn(`${u}/gn3`),
    };
  } catch (e) {
    for (const t of uploaded) t.dispose();
    throw e;
  }
}

export function disposeStemWeights(w: StemWeights): void {
  for (const t of [w.convRoot, w.convProj, w.conv1, w.conv2, w.conv3]) t.dispose();
  for (const g of [w.gnRoot, w.gnProj, w.gn1, w.gn2, w.gn3]) {
    g.scale.dispose();
    g.bias.dispose();
  }
}
