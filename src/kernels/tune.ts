// Remembering which variant of a kernel is fastest on an adapter: in memory for the process,
// and optionally in a persistent cache (a JSON file via tune-cache.node.ts in Node,
// localStorage in browsers), because measuring costs seconds on a CPU adapter.
import type { Runtime } from '../runtime/runtime.ts';

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
  const info = (rt.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  return [a.vendor, a.architecture, a.device, a.description, `subgroups ${info?.subgroupMinSize ?? '?'}-${info?.subgroupMaxSize ?? '?'}`].join('|');
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
 * Median wall time in ms of `encode` (which only encodes dispatches) after one warm-up run that
 * also compiles the pipeline. Wall time around a sync, not timestamp queries: tuning must work
 * on runtimes that do not profile, and the variants' differences are far above the sync cost.
 */
export async function medianWallMs(rt: Runtime, encode: () => void, reps = 3): Promise<number> {
  encode();
  await rt.sync();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    encode();
    await rt.sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
