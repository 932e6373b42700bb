// Remembering which variant of a kernel is fastest on an adapter: in memory for the process,
// and optionally in a persistent cache (a JSON file via tune-cache.node.ts in Node,
// localStorage in browsers), because measuring costs seconds on a CPU adapter.
import type { Runtime } from '../runtime/runtime.ts';
import { subgroupSizes } from '../runtime/device.ts';

/** Persistent storage for tuning results; get/set may be sync or async. */
export interface TuneCache {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/**
 * Identifies the adapter and driver version (the description carries e.g. the Mesa version) and
 * its subgroup sizes: the same lavapipe has 4-, 8- or 16-lane subgroups by LP_NATIVE_VECTOR_WIDTH,
 * and which kernel wins (or runs at all) depends on them.
 */
export function adapterKey(rt: Runtime): string {
  const a = rt.adapter;
  const { min, max } = subgroupSizes(rt);
  return [a.vendor, a.architecture, a.device, a.description, `subgroups ${min ?? '?'}-${max ?? '?'}`].join('|');
}

/** A TuneCache on the browser's localStorage, or undefined where there is none. */
export function localStorageTuneCache(prefix = 'musiq.tune:'): TuneCache | undefined {
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  if (!storage) return undefined;
  return {
    get: (key) => storage.getItem(prefix + key) ?? undefined,
    set: (key, value) => {
      try {
        storage.setItem(prefix + key, value);
      } catch {
        // Quota or privacy mode: the choice is then only remembered for this page.
      }
    },
  };
}

/**
 * Wall time in ms of one run of each `encodes[i]` (which only encode dispatches): the fastest of
 * `reps` samples, taken in turns (a, b, c, a, b, c, …) after a warm-up run of each that also
 * compiles its pipeline. In turns because a GPU that was idle runs its first milliseconds at a
 * low clock: timed one after the other, the first kernel looked slowest (on an H200 the first
 * tuning of a process chose 'blocked', a second one in the same process 'tiled', which the
 * kernel benchmark confirms). Wall time around a sync, not timestamp queries: tuning must work on
 * runtimes that do not profile. Each sample batches as many runs as it takes to last
 * `minSampleMs`, doubling from one: on a real GPU one run takes microseconds against a round trip
 * of ~2 ms (Dawn on an H200), so single runs would time the round trip.
 */
export async function wallMsInTurns(rt: Runtime, encodes: (() => void)[], reps = 3, minSampleMs = 10): Promise<number[]> {
  const run = async (encode: () => void, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) encode();
    await rt.sync();
    return performance.now() - t0;
  };
  const batch: number[] = [];
  for (const encode of encodes) {
    await run(encode, 1);
    let n = 1;
    if (minSampleMs > 0) while ((await run(encode, n)) < minSampleMs && n < 4096) n *= 2;
    batch.push(n);
  }
  const best = encodes.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    for (const [i, encode] of encodes.entries()) best[i] = Math.min(best[i], (await run(encode, batch[i])) / batch[i]);
  }
  return best;
}
