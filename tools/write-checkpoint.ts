// Synthetic MUSIQ checkpoints with the exact original key names and layout (spec §4), filled from
// a seeded PRNG, for tests and benchmarks that must not depend on the 155 MB downloads.
//   node --import tsx tools/write-checkpoint.ts out.npz [--tiny] [--classes 1|10|1000] [--seed N] [--deflate] [--extras]
import { pathToFileURL } from 'node:url';
import { npzChunks, writeNpz } from '../src/npz/writer.ts';
import { syntheticMembers, type SyntheticOptions } from '../src/bench/random-checkpoint.ts';

export { CONFIGS, syntheticMembers, type SyntheticOptions } from '../src/bench/random-checkpoint.ts';

/** The checkpoint as one buffer (built once; a stored full-size one is ~110 MB, ~165 MB with extras). */
export function writeSyntheticCheckpoint(opts: SyntheticOptions): Uint8Array {
  return writeNpz(syntheticMembers(opts), { deflate: opts.deflate });
}

export async function main(args: string[]): Promise<number> {
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const usage = 'usage: write-checkpoint <out.npz> [--tiny] [--classes 1|10|1000] [--seed N] [--deflate] [--extras]';
  const opts: SyntheticOptions = { config: 'full', numClasses: 1 };
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--tiny') opts.config = 'tiny';
    else if (a === '--deflate') opts.deflate = true;
    else if (a === '--extras') opts.extras = true;
    else if (a === '--classes' || a === '--seed') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 0 || (a === '--classes' && ![1, 10, 1000].includes(v))) {
        console.error(`write-checkpoint: bad value for ${a}: ${args[i]}\n${usage}`);
        return 1;
      }
      if (a === '--classes') opts.numClasses = v;
      else opts.seed = v;
    } else if (!a.startsWith('-') && !out) out = a;
    else {
      console.error(`write-checkpoint: unexpected argument "${a}"\n${usage}`);
      return 1;
    }
  }
  if (!out) {
    console.error(usage);
    return 1;
  }
  // Streamed member by member: only one tensor is in memory at a time.
  const fd = openSync(out, 'w');
  let bytes = 0;
  try {
    for (const chunk of npzChunks(syntheticMembers(opts), { deflate: opts.deflate })) bytes += writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  console.log(`wrote ${out}: ${opts.config as string}, ${opts.numClasses} output(s), seed ${opts.seed ?? 0}${opts.deflate ? ', deflated' : ''}${opts.extras ? ', with optimizer extras' : ''}; ${bytes} bytes`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
