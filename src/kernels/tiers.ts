// Two tiers of kernels, as a JIT has: on lavapipe a kernel compiles at its first dispatch, on the
// cores it computes on, and a fast-running kernel can cost far more to compile than a first
// image is worth (the matmul's 64-row tile, 7.5 s on a Zen 1 host; Deno's attention 'direct',
// 23 s, until it read a texture). So a process starts on kernels that compile fast and is
// promoted to the fast-running ones once a run proves long; a promotion that ran is remembered in
// the tune cache, since the driver then keeps the compiled kernels on disk.
import type { Runtime } from '../runtime/runtime.ts';
import { adapterKey, type TuneCache } from './tune.ts';

const TIER_KEY = 'tier/1';
const SPENT_KEY = 'tier-spent/1';
const promoted = new Set<string>(); // adapterKeys running the fast-running tier

/** Whether the adapter is on its fast-running tier: kernels may pay their compile cost. */
export function isPromoted(rt: Runtime): boolean {
  return promoted.has(adapterKey(rt));
}

/** From now on, the fastest-running kernels, whatever they cost to compile. */
export function promote(rt: Runtime): void {
  promoted.add(adapterKey(rt));
}

/**
 * Runs `encode` as if the adapter were promoted: to encode the fast-running tier's dispatches on
 * a second device ahead of the switch. Synchronous, so no other dispatch sees the promotion.
 */
export function asPromoted<T>(rt: Runtime, encode: () => T): T {
  if (isPromoted(rt)) return encode();
  promote(rt);
  try {
    return encode();
  } finally {
    demote(rt);
  }
}

/** Back to the fast-compiling tier (tests). */
export function demote(rt: Runtime): void {
  promoted.delete(adapterKey(rt));
}

/** Records that the fast-running kernels have run on this adapter (so the driver has compiled and cached them): later processes start promoted. */
export async function rememberPromotion(rt: Runtime, cache: TuneCache | undefined): Promise<void> {
  await cache?.set(`${TIER_KEY}|${adapterKey(rt)}`, 'promoted');
}

/** Promotes at once where an earlier process ran the fast-running kernels on this adapter. */
export async function recallPromotion(rt: Runtime, cache: TuneCache | undefined): Promise<void> {
  if ((await cache?.get(`${TIER_KEY}|${adapterKey(rt)}`)) === 'promoted') promote(rt);
}

/**
 * Milliseconds that earlier processes spent scoring on this adapter's first tier: a run of short
 * processes (a shell loop calling the CLI once per file) proves long as one long process does.
 */
export async function recallSpent(rt: Runtime, cache: TuneCache | undefined): Promise<number> {
  const ms = Number(await cache?.get(`${SPENT_KEY}|${adapterKey(rt)}`));
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Records the milliseconds spent on the first tier so far, this process's included (recallSpent). */
export async function rememberSpent(rt: Runtime, cache: TuneCache | undefined, ms: number): Promise<void> {
  await cache?.set(`${SPENT_KEY}|${adapterKey(rt)}`, String(Math.round(ms)));
}
