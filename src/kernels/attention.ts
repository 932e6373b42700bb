import { uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { subgroupSizes } from '../runtime/device.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';
import { isPromoted } from './tiers.ts';
import { textureRows } from '../runtime/texture-copy.ts';

/**
 * 'tiled': K/V tiles in workgroup memory shared by 64 queries (one per invocation), the
 * usual GPU layout. 'subgroup': each lane loads its own key row and shuffles it to the
 * others, two queries per invocation; 4-5× faster on lavapipe, where a load costs the
 * same whether 8 lanes share its address or not (`musiq bench`). 'unrolled':
 * keys 4 at a time by subgroup broadcasts, 8 queries per invocation, every register named and
 * every head-dim loop written out, for SwiftShader (attention_unrolled.wgsl). 'looped': the same
 * with loops over the 8 queries, for lavapipe, whose compiler unrolls them (attention_looped.wgsl).
 * Both read q, k and v from a texture copy of qkv (lib/attention_qkv_texture.wgsl; READS_TEXTURE).
 * 'direct': the looped kernel without subgroups, each invocation loading the 4 keys itself (from
 * the texture copy too), for CPU adapters without subgroups (Deno's WebGPU on lavapipe;
 * attention_direct.wgsl). 'quad': tiled's kernel with four lanes per query, each owning a
 * quarter of the head dim, for GPUs with subgroups (lib/attention_query_lanes4.wgsl).
 */
export type AttentionVariant = 'tiled' | 'subgroup' | 'subgroup4' | 'unrolled' | 'looped' | 'direct' | 'quad';

export interface AttentionOptions {
  heads: number;
  headDim: number;
  /** [T], f32 or u32: > 0 valid, 0 padding. Omitted: every token is valid. */
  mask?: Tensor;
  /**
   * Compute only the first `queries` rows (every token still gives keys and values): the last
   * MUSIQ block reads only the CLS row. Default T.
   */
  queries?: number;
  /** [queries, heads·headDim]; allocated when omitted. */
  out?: Tensor;
  /** Forces a variant; by default the one expected to be fastest on this adapter. */
  variant?: AttentionVariant;
}

/**
 * Invocations per workgroup. The 8-query kernels take 8 (64 queries per workgroup, one 8-lane
 * subgroup on lavapipe), which loads keys no more often than 64 invocations would (each subgroup
 * walks the keys once either way) but balances the CPU threads better and wastes fewer queries
 * past T: T = 343, looped 31 GFLOP/s at 16 against 23 at 64 (the shuffle kernel 26); SwiftShader,
 * unrolled 8.5 against 6.0. From 16 to 8 (alternating, T = 918, one layer): looped 37 against 39
 * ms (960 queries computed instead of 1024), the last layer's CLS row alone 2.7 against 4.8 ms,
 * direct 66 against 68, unrolled on SwiftShader 139 against 142; T = 343 and 2000 no slower.
 * Never fewer than a subgroup's lanes (16 on lavapipe at LP_NATIVE_VECTOR_WIDTH=512).
 */
const INVOCATIONS: Record<AttentionVariant, number> = { tiled: 64, subgroup: 64, subgroup4: 64, unrolled: 8, looped: 8, direct: 8, quad: 128 };
const QUERIES_PER_INVOCATION: Record<AttentionVariant, number> = { tiled: 1, subgroup: 2, subgroup4: 2, unrolled: 8, looped: 8, direct: 8, quad: 1 / 4 };
const KERNEL: Record<AttentionVariant, string> = { tiled: 'attention', subgroup: 'attention_subgroup', subgroup4: 'attention_subgroup', unrolled: 'attention_unrolled', looped: 'attention_looped', direct: 'attention_direct', quad: 'attention' };
/** Texels a row of the copy of qkv READS_TEXTURE kernels read: TEX_W in lib/attention_qkv_texture.wgsl. */
const QKV_TEXTURE_WIDTH = 2048;
/**
 * The kernels that read qkv from a texture copy (Runtime.textureOf), where a storage load at a
 * different address in each lane costs the CPU backends a compiled branch, bounds check and
 * scalar load per lane, and a texel fetch a call. lavapipe, looped: tierRule's comment. SwiftShader,
 * unrolled (Zen 1 host, T = 919, one layer): compile 2.3-3.0 s against 7.9-8.4; the model's 14
 * layers 3.35 and 3.53 s against 3.68 and 3.93 (bench/profile.ts, alternating). Deno's wgpu on
 * lavapipe, direct: tierRule's comment.
 */
const READS_TEXTURE: readonly AttentionVariant[] = ['looped', 'unrolled', 'direct'];
const QKV_TEXTURE = { 'lib/attention_qkv_buffer': 'lib/attention_qkv_texture' };

/**
 * Whether `variant` reads the texture copy here. Not on lavapipe with subgroups wider than 8
 * (LP_NATIVE_VECTOR_WIDTH=512, not Mesa's default): there the looped kernel's texel fetches
 * returned zeros (every output 0 in the kernel tests), so it reads its buffer, and waits for
 * promotion as it did before (tierRule).
 */
function readsTexture(rt: Runtime, variant: AttentionVariant): boolean {
  return READS_TEXTURE.includes(variant) && !(rt.adapter.architecture === 'software' && (subgroupSizes(rt).max ?? 0) > 8);
}

/** INVOCATIONS, widened to a whole subgroup for the 8-query kernels. */
function invocations(rt: Runtime, variant: AttentionVariant): number {
  return QUERIES_PER_INVOCATION[variant] === 8 ? Math.max(INVOCATIONS[variant], Math.min(subgroupSizes(rt).max ?? 0, 64)) : INVOCATIONS[variant];
}

/**
 * 'subgroup4' is the subgroup kernel with 4-key tiles, for 4-lane subgroups (lavapipe at
 * LP_NATIVE_VECTOR_WIDTH=128); 'direct' gathers its key tiles by loads instead of broadcasts;
 * 'quad' is the tiled kernel with four invocations per query.
 */
const INCLUDES: Partial<Record<AttentionVariant, Record<string, string>>> = {
  subgroup4: { 'lib/attention_lanes8': 'lib/attention_lanes4' },
  direct: { 'lib/attention_keys_lanes': 'lib/attention_keys_direct' },
  unrolled: { 'lib/attention_query_written': 'lib/attention_query_stored' },
  quad: { 'lib/attention_query_lanes1': 'lib/attention_query_lanes4' },
};
const MAX_HEAD_DIM = 64;

/** The variants this runtime can run; the first is the default. */
export function attentionVariants(rt: Runtime): AttentionVariant[] {
  // The subgroup kernel shuffles within groups of 8 (or 4) lanes, so every subgroup must hold whole groups.
  const min = rt.features.has('subgroups') ? (subgroupSizes(rt).min ?? 0) : 0;
  const shuffled: AttentionVariant[] = [...(min >= 8 && min % 8 === 0 ? (['subgroup'] as const) : []), ...(min >= 4 && min % 4 === 0 ? (['subgroup4'] as const) : [])];
  // The quad kernel's slots assume whole subgroups in its workgroups (of 128 invocations).
  const max = subgroupSizes(rt).max ?? min;
  const quad: AttentionVariant[] = min >= 4 && min % 4 === 0 && max <= INVOCATIONS.quad && INVOCATIONS.quad % max === 0 ? ['quad'] : [];
  // On GPUs the workgroup-memory layout is the textbook one (8 queries' registers per invocation
  // would spill), with four lanes per query where subgroups allow: on an H200, T = 919, quad
  // 0.23 ms a layer against tiled's 1.73 and the shuffle kernels' 3.4-3.7. Each CPU adapter gets
  // its own 8-query kernel, T = 919 (`musiq bench`):
  // lavapipe (architecture 'software') the looped one, 36 GFLOP/s against the shuffle kernels'
  // 29 and tiled's 4; SwiftShader ('swiftshader', 4 lanes) the unrolled one, 8.5 against tiled's
  // 0.7, subgroup4's 0.3 and the looped kernel's 2.1 (interleaved, quiet host). Each is offered on its own adapter
  // only (elsewhere it loses to the default), and the tests run every variant offered.
  // CPU adapters without subgroups (Deno's wgpu on lavapipe reports no architecture, only that it
  // is a fallback adapter) get the direct kernel first; with subgroups it is offered after the
  // others, so the kernel tests run it on every CPU adapter.
  const arch = rt.adapter.architecture;
  const direct: AttentionVariant[] = arch === 'software' || arch === 'swiftshader' || rt.adapter.isFallback ? ['direct'] : [];
  if (arch === 'software') return [...(min >= 4 ? (['looped'] as const) : []), ...shuffled, ...direct, 'tiled', ...quad];
  if (arch === 'swiftshader') return [...(min >= 4 ? (['unrolled'] as const) : []), 'tiled', ...shuffled, ...direct, ...quad];
  return [...(min >= 4 ? [] : direct), ...quad, 'tiled', ...shuffled, ...(min >= 4 ? direct : [])];
}

/**
 * Variants that cost more to compile than a first image is worth, run only once promoted
 * (tiers.ts), and after how many images a process promotes. lavapipe under Dawn: none (but for
 * 16-lane subgroups: readsTexture). The looped kernel took 31 CPU-s to compile reading qkv from
 * its storage buffer (on a Zen 4 host; 40 s on a Zen 1), and waited for promotion; lavapipe
 * inlines a branch, a bounds check and a scalar load per lane for every storage load at a
 * different address in each lane, where a texel fetch is a call into a function compiled once per
 * format. Reading q, k and v from a texture copy of qkv, on the Zen 1 host (fresh Mesa cache,
 * T = 919, one layer): compile 7.9 s against 39.9, a layer 73 ms against 84 (the copy included);
 * the shuffle kernel, the first tier's before, compiled in 8.0 s and ran 140 ms. So the first image
 * runs it, and lavapipe's tier keeps the matmul tile (matmul.ts) only. lavapipe under wgpu (Deno;
 * a fallback adapter that reports no architecture), no subgroups: direct reading its buffer took
 * 23.4 s to compile and tiled 1.4 s, so a process started on tiled and moved to direct at its 8th
 * image, which waited 31-33 s for the compile. Direct reading the texture copy too (Zen 1 host,
 * T = 919, one layer): compile 5.9-6.3 s against 29.5 (fresh Mesa cache, a process each; tiled
 * 3.7 on that busy host), a layer 196-201 ms against 233-241 (in turns, the copy included; tiled
 * 673-802 in its own process). So the first image runs it, and Deno has no tiers: a fresh
 * process's first 1024×768 image (fresh HOME, warm Mesa cache) took 14.5 and 16.7 s against 20.2
 * and 32.4 on tiled, on a fresh Mesa cache 28.0 against 35.9.
 * A run also proves long by the time it has spent, whatever its image count: on a Zen 1 host a
 * 1024×768 image took ~1.4× as long on lavapipe's first tier as promoted (the tier's matmul tile
 * wins there too; CLI, six images: 55.5-61.4 s against 40.2-40.7), so 32 images lost over a
 * minute, where after two minutes (12-17 images) the compile on the second device, beside the
 * scorer (37-58 s there), costs about half of what the run has spent; large photos, whose
 * attention grows with the square of their tokens, promote after one or two. The time adds up
 * over processes (tiers.ts, recallSpent), so a shell loop that scores one file per process is
 * promoted too. On the Zen 4 host 32 images take ~75 s, so the count decides there. Re-measured
 * once the first image ran the looped kernel (Zen 1 host, bench/model.ts, alternating): the first
 * tier 5.19 and 4.96 s a 1024×768 image, promoted 4.81 and 4.95, so the 64-row tile's ~7.5 s
 * compile pays after 20-35 images, and the point stayed.
 */
function tierRule(rt: Runtime): { costly: AttentionVariant[]; promoteAfter: PromotionPoint } | undefined {
  const { architecture } = rt.adapter;
  if (architecture === 'software') return { costly: readsTexture(rt, 'looped') ? [] : ['looped'], promoteAfter: { images: 32, ms: 120_000 } };
  return undefined;
}

/** When a run has proven long enough to pay for the fast-running tier's compile: images scored, or milliseconds spent scoring them. */
export interface PromotionPoint {
  images: number;
  ms: number;
}

/** Whether this adapter starts on a first tier of kernels that compile fast (tiers.ts). */
export function hasTiers(rt: Runtime): boolean {
  return tierRule(rt) !== undefined;
}

/** When a scorer promotes this adapter (scorer.ts); 32 images or two minutes where no kernel waits for it. */
export function promoteAfter(rt: Runtime): PromotionPoint {
  return tierRule(rt)?.promoteAfter ?? { images: 32, ms: 120_000 };
}

/** Whether a run that has scored `images` in `ms` (before the one about to start) has reached the promotion point. */
export function provenLong(rt: Runtime, images: number, ms: number): boolean {
  const at = promoteAfter(rt);
  return images + 1 >= at.images || ms >= at.ms;
}

/** The variant attention() uses by default now: the first offered, unless it waits for promotion. */
export function attentionVariant(rt: Runtime): AttentionVariant {
  const offered = attentionVariants(rt);
  const costly = isPromoted(rt) ? [] : (tierRule(rt)?.costly ?? []);
  return offered.find((v) => !costly.includes(v)) ?? offered[0];
}

/** What attention() allocates and dispatches for Q queries: the output only, so memory is O(T). */
export function attentionPlan(rt: Runtime, Q: number, heads: number, headDim: number, variant: AttentionVariant): { outBytes: number; workgroups: [number, number] } {
  return { outBytes: Q * heads * headDim * 4, workgroups: [Math.ceil(Q / (invocations(rt, variant) * QUERIES_PER_INVOCATION[variant])), heads] };
}

/** The pipeline a variant dispatches: its kernel, override constants and include swaps. */
function pipelineOf(rt: Runtime, variant: AttentionVariant, headDim: number): { kernel: string; constants: Record<string, number>; includes?: Record<string, string> } {
  const QB = invocations(rt, variant);
  return {
    kernel: KERNEL[variant],
    // The 8-query kernels take the head dim as a uniform (its last field): one pipeline for every head dim.
    // The quad kernel's QB counts queries (four invocations each), the others' invocations.
    constants: QUERIES_PER_INVOCATION[variant] === 8 ? { QB } : { DH: headDim, QB: variant === 'quad' ? QB / 4 : QB },
    includes: readsTexture(rt, variant) ? { ...INCLUDES[variant], ...QKV_TEXTURE } : INCLUDES[variant],
  };
}

/**
 * Compiles the pipeline attention() will dispatch, without blocking (createComputePipelineAsync),
 * so that a later attention() finds it compiled. Head dim 64 is every official checkpoint's; the
 * 8-query kernels use one pipeline for any head dim.
 */
export function prepareAttention(rt: Runtime, variant = attentionVariant(rt), headDim = 64): Promise<void> {
  const { kernel, constants, includes } = pipelineOf(rt, variant, headDim);
  return rt.preparePipeline(kernel, 'main', constants, includes);
}

/**
 * Masked multi-head self-attention as flax computes it, from the packed projection
 * qkv = y·[Wq|Wk|Wv] + [bq|bk|bv] ([T, 3D]). Returns [T, D], head h at columns h·Dh...
 */
export function attention(rt: Runtime, qkv: Tensor, opts: AttentionOptions): Tensor<'f32'> {
  const { heads: H, headDim: Dh, mask } = opts;
  const D = H * Dh;
  if (!Number.isInteger(H) || H < 1 || !Number.isInteger(Dh) || Dh < 4 || Dh % 4 !== 0 || Dh > MAX_HEAD_DIM) {
    throw new MusiqError(`attention: heads ${H} and head dim ${Dh} unsupported (head dim must be a multiple of 4, at most ${MAX_HEAD_DIM})`);
  }
  if (qkv.dtype !== 'f32' || qkv.shape.length !== 2 || qkv.shape[1] !== 3 * D) {
    throw new MusiqError(`attention: qkv must be f32 [T, ${3 * D}], got ${qkv.dtype} [${qkv.shape.join(', ')}]`);
  }
  const T = qkv.shape[0];
  if (mask && (mask.size !== T || mask.dtype === 'i32')) {
    throw new MusiqError(`attention: mask must be f32 or u32 [${T}], got ${mask.dtype} [${mask.shape.join(', ')}]`);
  }
  const Q = opts.queries ?? T;
  if (!Number.isInteger(Q) || Q < 0 || Q > T) throw new MusiqError(`attention: queries must be an integer in [0, ${T}], got ${Q}`);
  const supported = attentionVariants(rt);
  let variant = opts.variant ?? attentionVariant(rt);
  if (!supported.includes(variant)) throw new MusiqError(`attention: variant "${variant}" is not available on ${rt.adapterName}`);
  // A qkv too tall for the texture (~58 000 tokens at D = 384) goes to the next kernel offered,
  // which reads the buffer (the looped kernel reading it took 40 s to compile on lavapipe).
  if (readsTexture(rt, variant) && textureRows(qkv.size, QKV_TEXTURE_WIDTH) > rt.limits.maxTextureDimension2D) {
    variant = supported[supported.indexOf(variant) + 1];
  }
  const plan = attentionPlan(rt, Q, H, Dh, variant);
  const out = (opts.out ?? rt.empty([Q, D])) as Tensor<'f32'>;
  if (out.size !== Q * D || out.dtype !== 'f32') throw new MusiqError(`attention: out must hold [${Q}, ${D}], got [${out.shape.join(', ')}]`);
  if (Q === 0) return out;
  rt.dispatch({
    ...pipelineOf(rt, variant, Dh),
    uniforms: uniforms([T, H, mask ? (mask.dtype === 'u32' ? 1 : 2) : 0, { f32: Math.sqrt(Dh) }, Q, Dh / 4]),
    // Without a mask the kernels never read binding 2; qkv stands in (read-only aliasing is allowed).
    buffers: [qkv, mask ?? qkv, out],
    textures: readsTexture(rt, variant) ? [rt.textureOf(qkv, QKV_TEXTURE_WIDTH)] : undefined,
    workgroups: plan.workgroups,
    // Q×T×H×Dh: bench/profile-groups.ts counts 4·Q·T·H·Dh flop from it.
    label: `attention/${variant} ${Q}×${T}×${H}×${Dh}`,
  });
  return out;
}
