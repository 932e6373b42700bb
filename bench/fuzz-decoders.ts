// The long decoder fuzz run (the suite's decode-fuzz test runs 2 × 20 000): N mutations of every
// PNG and JPEG seed kind (test/image/fuzz-cases.ts), split evenly, each decode checked to
// throw nothing but a one-line MusiqError. Exits 1 on the first other error, naming the seed, the
// run number and the mutation, so that it can be replayed with the same --seed.
// `node --import tsx bench/fuzz-decoders.ts [--runs 200000] [--seed 1]`
import { decodeImage } from '../src/image/decode.ts';
import { MusiqError } from '../src/common/errors.ts';
import { fuzz, haveCjpeg, jpegSeeds, pngSeeds } from '../test/image/fuzz-cases.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const runs = arg('--runs', 200_000), seed = arg('--seed', 1);
if (!haveCjpeg) console.log('cjpeg (libjpeg-turbo-progs) not installed: PNG seeds only');
const kinds = [['PNG', pngSeeds()], ['JPEG', jpegSeeds()]] as const;
const live = kinds.filter(([, s]) => s.length > 0);
let total = 0, slowest = 0, ms = 0;
for (const [kind, seeds] of live) {
  try {
    const r = fuzz(seeds, seed * 7919 + kind.length, Math.ceil(runs / live.length), Infinity, decodeImage, (e): e is Error => e instanceof MusiqError);
    console.log(`${kind}: ${r.runs} mutations of ${seeds.length} seeds in ${(r.ms / 1000).toFixed(1)} s, ${r.decoded} decoded, ${r.errors.size} distinct errors, slowest ${r.slowestMs.toFixed(1)} ms (${r.slowest})`);
    total += r.runs, ms += r.ms, slowest = Math.max(slowest, r.slowestMs);
  } catch (e) {
    console.error(`${kind}: FAILED: ${(e as Error).message}`);
    process.exit(1);
  }
}
console.log(`total: ${total} mutations in ${(ms / 1000).toFixed(1)} s, nothing but MusiqError, slowest decode ${slowest.toFixed(1)} ms (bound 2000 ms)`);
if (slowest >= 2000) process.exit(1);
