// Checkpoints of MUSIQ's exact key names, shapes and dtypes with seeded random values: the shipped
// benchmark's model (real shapes, so the real cost) and the synthetic checkpoints tests and
// tools/write-checkpoint.ts write. The spread of each tensor is that of a sensible init, so
// activations stay O(1) through 14 layers (no NaN or denormal slows a CPU adapter down).
import { checkpointKeys, type MusiqDims } from '../musiq/checkpoint.ts';
import type { NpyMember } from '../npz/writer.ts';
import { randomArray } from './random.ts';

export interface SyntheticOptions {
  /** 'full': the released model (hidden 384, 14 layers, 6 heads, MLP 1152, stem 64); 'tiny': 64, 2, 2, 128, 32; or any dims. */
  config: 'full' | 'tiny' | Omit<MusiqDims, 'numClasses'>;
  /** Head outputs: 1 (quality score), 10 (AVA), 1000 (ImageNet). */
  numClasses: number;
  seed?: number;
  /** Deflate members (np.savez_compressed style) instead of storing them. */
  deflate?: boolean;
  /** Also write optimizer-state members outside opt/target/: a step counter and a bf16 ('<V2') momentum per parameter. */
  extras?: boolean;
}

export const CONFIGS: Record<'full' | 'tiny', Omit<MusiqDims, 'numClasses'>> = {
  full: { hidden: 384, layers: 14, heads: 6, headDim: 64, mlp: 1152, stemWidth: 64, numScales: 3, posGrid: 10, preLogits: 0 },
  tiny: { hidden: 64, layers: 2, heads: 2, headDim: 32, mlp: 128, stemWidth: 32, numScales: 3, posGrid: 10, preLogits: 0 },
};

/**
 * Uniform values with the spread of a sensible init, so activations stay O(1) through 14 layers:
 * kernels with std 1/√fan_in, norm scales near 1, small biases, O(1) position/scale/CLS embeddings.
 */
function scaleOf(key: string, shape: number[]): { center: number; halfWidth: number } {
  const leaf = key.slice(key.lastIndexOf('/') + 1);
  if (leaf === 'kernel') {
    // Fan-in is every axis but the output ones: HWIO convs and (in, out) denses lose their last
    // axis, q/k/v (in, heads, dim) their last two.
    const outAxes = /\/(query|key|value)\/kernel$/.test(key) ? 2 : 1;
    const fanIn = shape.slice(0, shape.length - outAxes).reduce((a, b) => a * b, 1);
    return { center: 0, halfWidth: Math.sqrt(3 / fanIn) };
  }
  if (leaf === 'scale') return { center: 1, halfWidth: 0.1 };
  if (leaf === 'bias') return { center: 0, halfWidth: 0.05 };
  return { center: 0, halfWidth: 1 }; // pos_embedding, scale_embedding, cls
}

export function syntheticMembers(opts: SyntheticOptions): NpyMember[] {
  const dims: MusiqDims = { ...(typeof opts.config === 'string' ? CONFIGS[opts.config] : opts.config), numClasses: opts.numClasses };
  const seed = opts.seed ?? 0;
  const members: NpyMember[] = [];
  [...checkpointKeys(dims)].forEach(([key, shape], i) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const tensorSeed = (Math.imul(seed + 1, 0x9e3779b1) + i * 7919) >>> 0;
    const values = () => {
      const { center, halfWidth } = scaleOf(key, shape);
      const a = randomArray(count, tensorSeed, halfWidth);
      if (center) for (let j = 0; j < count; j++) a[j] += center;
      return a;
    };
    members.push({ name: `opt/target/${key}`, descr: '<f4', shape, byteLength: 4 * count, data: () => new Uint8Array(values().buffer) });
    if (opts.extras) {
      // bf16 momentum: the top halves of small float32s, which numpy can only describe as void '<V2'.
      const momentum = () => {
        const f = new Uint32Array(randomArray(count, tensorSeed ^ 0x5bd1e995, 1e-3).buffer);
        const out = new Uint16Array(count);
        for (let j = 0; j < count; j++) out[j] = f[j] >>> 16;
        return new Uint8Array(out.buffer);
      };
      members.push({ name: `opt/state/param_states/${key}/momentum`, descr: '<V2', shape, byteLength: 2 * count, data: momentum });
    }
  });
  if (opts.extras) members.push({ name: 'opt/state/step', descr: '<i4', shape: [], byteLength: 4, data: () => new Uint8Array(new Int32Array([100000]).buffer) });
  // np.savez writes a dict's keys in order; flax's flattened dicts are sorted, as in the shared fixtures.
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

