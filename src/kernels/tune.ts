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
 * Median wall time in ms of one `encode` (which only encodes dispatches), after one warm-up run
 * that also compiles the pipeline. Wall time around a sync, not timestamp queries: tuning must
 * work on runtimes that do not profile. Each sample batches as many runs as it takes to last
 * `minSampleMs`, doubling from one: on a real GPU one run takes microseconds against a round
 * trip of ~2 ms (Dawn on an H200), so single runs would time the round trip and pick at random.
 */
export async function medianWallMs(rt: Runtime, encode: () => void, reps = 3, minSampleMs = 10): Promise<number> {
  encode();
  await rt.sync();
  const run = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) encode();
    await rt.sync();
    return performance.now() - t0;
  };
  let n = 1;
  let first = await run(n);
  while (first < minSampleMs && n < 4096) first = await run((n *= 2));
  const times = [first / n];
  for (let i = 1; i < reps; i++) times.push((await run(n)) / n);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
