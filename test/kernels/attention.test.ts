import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu, newRuntime, subgroupSkip } from '../gpu.ts';
import { skip } from '../skip.ts';
import { attention, attentionPlan, attentionVariant, attentionVariants, type AttentionVariant } from '../../src/kernels/attention.ts';
import { demote, promote, recallPromotion, rememberPromotion } from '../../src/kernels/tiers.ts';
import type { TuneCache } from '../../src/kernels/tune.ts';
import { attentionRef } from '../../src/kernels/attention.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { mulberry32, randomArray } from '../../tools/random.ts';

const EPS = 2 ** -24;

/**
 * Error bound per output row (query i, head h), from the f32 operations the kernels do:
 * - logit: q/√Dh rounded, then Dh/4 fused multiply-adds per vec4 lane and 3 adds:
 *   |δs| ≤ (Dh/4 + 2)·ε·A, A = max_j Σ_d |q_d·k_jd| (q scaled);
 * - exp: ≤ (3 + 2|x|) ulp (WGSL), |x| ≤ the logit range ≤ 2A;
 * - sums over T keys (weights, then weighted values): ≤ T·ε relative each.
 * A relative weight error e moves the output by ≤ 2e·V, V = max |v| in that head.
 * The bound is doubled for slack; typical errors are ~100× smaller, while any real bug
 * (missing scale, wrong key, bias not applied, softmax over the wrong axis) is O(0.01..1).
 */
function tolerances(qkv: Float32Array, T: number, H: number, Dh: number): Float64Array {
  const D = H * Dh;
  const tol = new Float64Array(T * H);
  const s = Math.fround(Math.sqrt(Dh));
  for (let h = 0; h < H; h++) {
    let V = 0;
    for (let j = 0; j < T; j++) for (let d = 0; d < Dh; d++) V = Math.max(V, Math.abs(qkv[j * 3 * D + 2 * D + h * Dh + d]));
    for (let i = 0; i < T; i++) {
      let A = 0;
      for (let j = 0; j < T; j++) {
        let a = 0;
        for (let d = 0; d < Dh; d++) a += Math.abs((qkv[i * 3 * D + h * Dh + d] / s) * qkv[j * 3 * D + D + h * Dh + d]);
        A = Math.max(A, a);
      }
      tol[i * H + h] = 2 * 2 * V * EPS * ((Dh / 4 + 2) * A + 3 + 4 * A + 2 * T);
    }
  }
  return tol;
}

function check(got: Float32Array, want: Float64Array, tol: Float64Array, T: number, H: number, Dh: number, what: string): void {
  for (let i = 0; i < T; i++) {
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < Dh; d++) {
        const k = i * H * Dh + h * Dh + d;
        const err = Math.abs(got[k] - want[k]);
        if (!(err <= tol[i * H + h])) assert.unreachable(`${what}: row ${i} head ${h} dim ${d}: got ${got[k]}, want ${want[k]} (|err| ${err.toExponential(2)} > ${tol[i * H + h].toExponential(2)})`);
      }
    }
  }
}

type MaskKind = 'none' | 'f32' | 'u32' | 'all-valid';

function makeMask(T: number, seed: number, kind: MaskKind): Float32Array | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'all-valid') return new Float32Array(T).fill(1);
  const r = mulberry32(seed);
  // About a third padding, and never token 0 (CLS, always valid in the model).
  return new Float32Array(T).map((_, t) => (t === 0 || r() > 0.35 ? 1 : 0));
}

const cases: [T: number, H: number, Dh: number, mask: MaskKind][] = [
  [1, 1, 32, 'none'],
  [2, 2, 32, 'f32'],
  [7, 6, 64, 'u32'],
  [33, 2, 32, 'f32'],
  [33, 1, 64, 'all-valid'],
  [100, 6, 64, 'u32'],
  [100, 2, 32, 'none'],
  [343, 6, 64, 'f32'],
  // Head dims 4 and 12: the unrolled kernel runs 16 columns and must ignore those past the head.
  [9, 3, 4, 'f32'],
  [20, 2, 12, 'none'],
  // Several workgroups of the 8-query kernels (128 queries each), the last one partly past T.
  [530, 1, 64, 'u32'],
];

async function runCase(rt: Runtime, variant: AttentionVariant, T: number, H: number, Dh: number, kind: MaskKind, scale = 2, queries = T): Promise<void> {
  const D = H * Dh;
  const seed = T * 7919 + H * 31 + Dh;
  const qkv = randomArray(T * 3 * D, seed, scale);
  const mask = makeMask(T, seed + 1, kind);
  const tq = rt.upload(qkv, [T, 3 * D]);
  const tm: Tensor | undefined = mask && (kind === 'u32' ? rt.upload(Uint32Array.from(mask), [T], 'u32') : rt.upload(mask));
  const out = attention(rt, tq, { heads: H, headDim: Dh, mask: tm, variant, queries });
  assert.equal(out.shape, [queries, D]);
  const got = await rt.read(out);
  check(got, attentionRef(qkv, T, { heads: H, headDim: Dh, mask }), tolerances(qkv, T, H, Dh), queries, H, Dh, `${variant} T=${T} queries=${queries} H=${H} Dh=${Dh} mask=${kind}`);
  for (const t of [tq, tm, out]) t?.dispose();
}

for (const [T, H, Dh, kind] of cases) {
  test(`attention T=${T} heads=${H} Dh=${Dh} mask=${kind}, every variant vs float64`, async () => {
    const rt = await gpu();
    for (const v of attentionVariants(rt)) await runCase(rt, v, T, H, Dh, kind);
  });
}

test('the 8-query kernels of CPU adapters read qkv from one reused texture: three sizes in one batch (growing it, then not) each reach their own dispatch', async () => {
  // A runtime of its own: the shared one's texture has grown to earlier tests' sizes.
  const rt = await newRuntime();
  try {
    const variant = attentionVariants(rt).find((v) => v === 'looped' || v === 'unrolled');
    if (!variant) return skip('lavapipe', `neither attention 'looped' (lavapipe) nor 'unrolled' (SwiftShader) is offered on ${rt.adapterName}`);
    const [H, Dh] = [2, 8];
    const D = H * Dh;
    // 5 tokens fill part of one 2048-texel row, 700 several rows and part of the next; the texture
    // grows once and is then rewritten under dispatches still encoded in the same batch.
    // Uploads first: an upload submits what is encoded, and the three dispatches must share a batch.
    const inputs = [5, 700, 9].map((T, i) => {
      const qkv = randomArray(T * 3 * D, 4242 + i, 2);
      return { T, qkv, tq: rt.upload(qkv, [T, 3 * D]), out: rt.empty([T, D]) };
    });
    const runs = inputs.map((r) => ({ ...r, out: attention(rt, r.tq, { heads: H, headDim: Dh, variant, out: r.out }) }));
    const got = (await rt.readAll(runs.map((r) => r.out))) as Float32Array[];
    runs.forEach((r, i) => {
      check(got[i], attentionRef(r.qkv, r.T, { heads: H, headDim: Dh }), tolerances(r.qkv, r.T, H, Dh), r.T, H, Dh, `${variant} T=${r.T}`);
      r.tq.dispose();
      r.out.dispose();
    });
    rt.trim();
  } finally {
    rt.destroy();
  }
});

test('attention with large logits (range ~1e3) stays finite and matches: the running max is subtracted', async () => {
  const rt = await gpu();
  for (const v of attentionVariants(rt)) await runCase(rt, v, 40, 2, 32, 'none', 12);
});

test('attention for the first queries only (the last block needs CLS alone) matches those rows of the full result', async () => {
  const rt = await gpu();
  // 1: the CLS case; 129: one past a subgroup workgroup's 128 queries; T: all, through the option.
  for (const v of attentionVariants(rt)) {
    for (const q of [1, 5, 129, 300]) await runCase(rt, v, 300, 6, 64, 'f32', 2, q);
    await runCase(rt, v, 7, 2, 32, 'none', 2, 0);
  }
});

test('attention offers its subgroup kernel exactly where the adapter has subgroups of 8+ lanes', async () => {
  // The tests here run every variant attentionVariants offers; this checks that the subgroup
  // kernel is left out only for an adapter reason, and prints it.
  const rt = await gpu();
  const skip = subgroupSkip(rt, 8);
  assert.is(attentionVariants(rt).includes('subgroup'), !skip);
  if (skip) console.log(`  (attention subgroup variant not offered: ${skip})`);
});

test('CPU adapters get the direct kernel: first without subgroups (Deno on lavapipe), offered after the subgroup kernels with them', () => {
  const fake = (architecture: string, isFallback: boolean, lanes?: number, maxLanes?: number) =>
    ({ features: new Set(lanes ? ['subgroups'] : []), adapter: { architecture, isFallback }, device: { adapterInfo: { subgroupMinSize: lanes, subgroupMaxSize: maxLanes } } }) as unknown as Runtime;
  // Deno's wgpu reports lavapipe with no architecture, as a fallback adapter, without subgroups.
  assert.equal(attentionVariants(fake('', true)), ['direct', 'tiled']);
  assert.equal(attentionVariants(fake('software', false)), ['direct', 'tiled']);
  assert.equal(attentionVariants(fake('software', false, 8)), ['looped', 'subgroup', 'subgroup4', 'direct', 'tiled', 'quad']);
  assert.equal(attentionVariants(fake('software', false, 4)), ['looped', 'subgroup4', 'direct', 'tiled', 'quad']);
  assert.equal(attentionVariants(fake('swiftshader', true, 4)), ['unrolled', 'tiled', 'subgroup4', 'direct', 'quad']);
  // A GPU gets the workgroup-memory kernels, quad first where its subgroups fit its workgroup of
  // 128 whole (not a hypothetical 256-lane one), and never the CPU ones.
  assert.equal(attentionVariants(fake('ampere', false, 32)), ['quad', 'tiled', 'subgroup', 'subgroup4']);
  assert.equal(attentionVariants(fake('rdna-3', false, 32, 64)), ['quad', 'tiled', 'subgroup', 'subgroup4']);
  assert.equal(attentionVariants(fake('adreno', false, 64, 128)), ['quad', 'tiled', 'subgroup', 'subgroup4']);
  assert.equal(attentionVariants(fake('future', false, 64, 256)), ['tiled', 'subgroup', 'subgroup4']);
  assert.equal(attentionVariants(fake('ampere', false)), ['tiled']);
});

test('padded queries get the f32 result of logit + (−1e10): a uniform average over all keys', async () => {
  const rt = await gpu();
  const T = 9, H = 1, Dh = 32, D = 32;
  const qkv = randomArray(T * 3 * D, 5, 1);
  const mask = new Float32Array(T).fill(1);
  mask[4] = 0;
  for (const v of attentionVariants(rt)) {
    const got = await rt.read(attention(rt, rt.upload(qkv, [T, 3 * D]), { heads: H, headDim: Dh, mask: rt.upload(mask), variant: v }));
    for (let d = 0; d < Dh; d++) {
      let mean = 0;
      for (let j = 0; j < T; j++) mean += qkv[j * 3 * D + 2 * D + d] / T;
      assert.ok(Math.abs(got[4 * D + d] - mean) < 1e-6, `${v}: padded row dim ${d}: ${got[4 * D + d]} vs mean ${mean}`);
    }
  }
});

test('attention for 12 000 tokens asks for O(T) memory (planned, not run)', () => {
  for (const variant of ['tiled', 'subgroup', 'subgroup4', 'unrolled', 'looped', 'direct', 'quad'] as const) {
    const sizes = (T: number) => {
      const requested: number[] = [];
      const dispatched: (readonly number[])[] = [];
      const stub = {
        features: new Set(['subgroups']),
        device: { adapterInfo: { subgroupMinSize: 8 } },
        adapter: { isFallback: true, architecture: variant === 'unrolled' ? 'swiftshader' : 'software' },
        adapterName: 'stub',
        limits: { maxTextureDimension2D: 8192 },
        empty: (shape: readonly number[]) => {
          requested.push(shape.reduce((a, b) => a * b, 1) * 4);
          return { shape, size: shape.reduce((a, b) => a * b, 1), dtype: 'f32' };
        },
        textureOf: (t: Tensor) => void requested.push(t.size * 4),
        dispatch: (d: { workgroups: readonly number[] }) => void dispatched.push(d.workgroups),
      } as unknown as Runtime;
      const qkv = { shape: [T, 1152], size: T * 1152, dtype: 'f32' } as unknown as Tensor;
      attention(stub, qkv, { heads: 6, headDim: 64, variant });
      assert.equal(dispatched.length, 1);
      assert.ok(dispatched[0].every((n) => n <= 65535));
      return { requested, stub };
    };
    const { requested: big, stub } = sizes(12000);
    // Only the [T, 384] output: 18 MB, where a T×T score matrix per head would be 3.4 GB (and for
    // the looped, unrolled and direct kernels the texture copy of qkv, 55 MB).
    assert.equal(big, [12000 * 384 * 4, ...(variant === 'looped' || variant === 'unrolled' || variant === 'direct' ? [12000 * 1152 * 4] : [])]);
    assert.equal(attentionPlan(stub, 12000, 6, 64, variant).outBytes, 12000 * 384 * 4);
    assert.equal(sizes(6000).requested[0] * 2, big[0]);
  }
});

test('the default kernel follows the adapter (planned, not run)', () => {
  const kernelFor = (architecture: string, subgroupMinSize: number, T: number, queries?: number, promoted = false, isFallback = true) => {
    let kernel = '';
    const stub = {
      features: new Set(subgroupMinSize ? ['subgroups'] : []),
      device: { adapterInfo: { subgroupMinSize, subgroupMaxSize: subgroupMinSize } },
      adapter: { isFallback, architecture },
      adapterName: 'stub',
      limits: { maxTextureDimension2D: 8192 },
      empty: (shape: readonly number[]) => ({ shape, size: shape.reduce((a, b) => a * b, 1), dtype: 'f32' }),
      textureOf: () => ({}),
      dispatch: (d: { kernel: string; includes?: Record<string, string>; textures?: unknown[] }) =>
        void (kernel = `${d.kernel}${d.includes?.['lib/attention_query_lanes1'] ? ', 4 lanes a query' : ''}${d.textures?.length ? ', qkv from a texture' : ''}`),
    } as unknown as Runtime;
    demote(stub);
    if (promoted) promote(stub);
    attention(stub, { shape: [T, 1152], size: T * 1152, dtype: 'f32' } as unknown as Tensor, { heads: 6, headDim: 64, queries });
    return kernel;
  };
  // lavapipe: the looped kernel reading qkv from a texture, promoted or not, CLS alone included, at
  // 4 lanes too; where qkv is too tall for the texture (2048 texels a row, 8192 rows) the next
  // kernel offered, which reads the buffer.
  const looped = 'attention_looped, qkv from a texture';
  assert.is(kernelFor('software', 8, 919), looped);
  assert.is(kernelFor('software', 8, 919, 1), looped);
  assert.is(kernelFor('software', 8, 58254), looped);
  assert.is(kernelFor('software', 8, 58255), 'attention_subgroup');
  assert.is(kernelFor('software', 4, 919), looped);
  assert.is(kernelFor('software', 4, 58255), 'attention_subgroup');
  // 16 lanes (LP_NATIVE_VECTOR_WIDTH=512): the texel fetches returned zeros there; the shuffle
  // kernel until promoted, then the looped one reading its buffer.
  assert.is(kernelFor('software', 16, 919), 'attention_subgroup');
  assert.is(kernelFor('software', 16, 919, undefined, true), 'attention_looped');
  assert.is(kernelFor('software', 8, 919, undefined, true), looped);
  assert.is(kernelFor('software', 8, 919, 1, true), looped);
  assert.is(kernelFor('software', 4, 343, undefined, true), looped);
  // SwiftShader: the unrolled kernel reading a texture at every size that fits one, then tiled; a
  // GPU with subgroups: quad.
  assert.is(kernelFor('swiftshader', 4, 919), 'attention_unrolled, qkv from a texture');
  assert.is(kernelFor('swiftshader', 4, 919, 1), 'attention_unrolled, qkv from a texture');
  assert.is(kernelFor('swiftshader', 4, 58255), 'attention');
  assert.is(kernelFor('nvidia', 32, 919), 'attention, 4 lanes a query');
  // Deno's wgpu on lavapipe (fallback, no architecture, no subgroups): direct reading a texture,
  // promoted or not, then tiled where qkv is too tall for it; a GPU without subgroups: tiled.
  const direct = 'attention_direct, qkv from a texture';
  assert.is(kernelFor('', 0, 919), direct);
  assert.is(kernelFor('', 0, 919, 1), direct);
  assert.is(kernelFor('', 0, 919, undefined, true), direct);
  assert.is(kernelFor('', 0, 58255), 'attention');
  assert.is(kernelFor('', 0, 919, undefined, true, false), 'attention');
});

test('the 8-query kernels run 8 invocations per workgroup, or a whole subgroup when wider (planned, not run)', () => {
  const planFor = (subgroupMaxSize: number | undefined, T: number) => {
    let seen: { constants?: Record<string, number>; workgroups: readonly number[] } | undefined;
    const stub = {
      features: new Set(['subgroups']),
      device: { adapterInfo: { subgroupMinSize: subgroupMaxSize ?? 8, subgroupMaxSize } },
      adapter: { isFallback: true, architecture: 'software' },
      adapterName: 'stub',
      limits: { maxTextureDimension2D: 8192 },
      empty: (shape: readonly number[]) => ({ shape, size: shape.reduce((a, b) => a * b, 1), dtype: 'f32' }),
      textureOf: () => ({}),
      dispatch: (d: typeof seen) => void (seen = d),
    } as unknown as Runtime;
    attention(stub, { shape: [T, 1152], size: T * 1152, dtype: 'f32' } as unknown as Tensor, { heads: 6, headDim: 64, variant: 'looped' });
    return [seen?.constants?.QB, ...(seen?.workgroups ?? [])];
  };
  // 918 tokens: 15 workgroups of 64 queries (960 computed), not 8 of 128 (1024).
  assert.equal(planFor(8, 918), [8, 15, 6]);
  assert.equal(planFor(undefined, 918), [8, 15, 6]);
  // 16-lane subgroups (LP_NATIVE_VECTOR_WIDTH=512): a workgroup of 8 would idle half of each.
  assert.equal(planFor(16, 918), [16, 8, 6]);
});

test('attention rejects bad shapes and masks with a MusiqError', async () => {
  const rt = await gpu();
  const qkv = rt.upload(new Float32Array(5 * 3 * 64), [5, 192]);
  assert.throws(() => attention(rt, qkv, { heads: 2, headDim: 64 }), (e: Error) => e instanceof MusiqError && /qkv must be f32 \[T, 384\]/.test(e.message));
  assert.throws(() => attention(rt, qkv, { heads: 1, headDim: 128 }), (e: Error) => e instanceof MusiqError && /head dim/.test(e.message));
  assert.throws(() => attention(rt, qkv, { heads: 2, headDim: 32, mask: rt.upload(new Float32Array(4)) }), (e: Error) => e instanceof MusiqError && /mask must be/.test(e.message));
  for (const queries of [6, -1, 1.5]) {
    assert.throws(() => attention(rt, qkv, { heads: 2, headDim: 32, queries }), (e: Error) => e instanceof MusiqError && /queries must be an integer in \[0, 5\]/.test(e.message));
  }
  qkv.dispose();
});

test('a kernel costly to compile (looped reading its buffer) waits for promotion (tiers.ts), which is remembered for later processes', async () => {
  const rt = await gpu();
  const offered = attentionVariants(rt);
  demote(rt);
  try {
    // The looped kernel reads a texture and compiles in about the stem's time, as direct does under
    // wgpu (Deno): not costly, but for 16-lane subgroups (LP_NATIVE_VECTOR_WIDTH=512), where it
    // reads its buffer.
    const wide = rt.adapter.architecture === 'software' && ((rt.device as { adapterInfo?: { subgroupMaxSize?: number } }).adapterInfo?.subgroupMaxSize ?? 0) > 8;
    const costly = wide && offered[0] === 'looped';
    if (costly) assert.is.not(attentionVariant(rt), offered[0], 'a fresh process starts on a variant that compiles fast');
    else assert.is(attentionVariant(rt), offered[0]);
    assert.ok(offered.includes(attentionVariant(rt)));
    const store = new Map<string, string>();
    const cache: TuneCache = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
    promote(rt);
    assert.is(attentionVariant(rt), offered[0]);
    await rememberPromotion(rt, cache);
    assert.equal([...store.values()], ['promoted']);
    demote(rt);
    await recallPromotion(rt, cache);
    assert.is(attentionVariant(rt), offered[0], 'a cache that says it ran promotes at once');
    demote(rt);
    await recallPromotion(rt, { get: () => undefined, set: () => undefined });
    if (costly) assert.is.not(attentionVariant(rt), offered[0], 'an empty cache does not promote');
  } finally {
    demote(rt);
  }
});

test.run();
