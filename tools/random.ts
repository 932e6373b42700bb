// Seeded PRNG and array helpers shared by tools, tests and benchmarks: reproducible, no dependency.
// The generator itself ships with the package (src/bench/random.ts: the benchmark's random weights).
export { mulberry32, randomArray } from '../src/bench/random.ts';

/** Largest |a_i - b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}
