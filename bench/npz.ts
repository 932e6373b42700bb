// Checkpoint loading cost on a full-size synthetic checkpoint (same layout and bytes as a real
// one): index (central directory + .npy headers) and reading every tensor, next to just reading
// the file's bytes. The file is freshly written, so it is in the page cache: this measures the
// reader, not the disk. `npm run bench:npz [-- --deflate] [-- --extras] [-- --json]`
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../src/common/crc32.ts';
import { openNpz } from '../src/npz/npz.ts';
import { bytesSource, type ByteSource } from '../src/npz/source.ts';
import { fileSource } from '../src/npz/source.node.ts';
import { openCheckpoint } from '../src/musiq/checkpoint.ts';
import { npzChunks } from '../src/npz/writer.ts';
import { syntheticMembers } from '../tools/write-checkpoint.ts';

const args = process.argv.slice(2);
const deflate = args.includes('--deflate'), extras = args.includes('--extras'), json = args.includes('--json');
const log = (s: string) => (json ? console.error(s) : console.log(s));
const reps = 3;

const dir = mkdtempSync(join(tmpdir(), 'musiq-bench-npz-'));
const file = join(dir, 'full.npz');
let t = performance.now();
const fd = openSync(file, 'w');
let size = 0;
for (const chunk of npzChunks(syntheticMembers({ config: 'full', numClasses: 1, extras }), { deflate })) size += writeSync(fd, chunk);
closeSync(fd);
log(`wrote a full-size checkpoint${deflate ? ' (deflated)' : ''}${extras ? ' with optimizer extras' : ''}: ${(size / 2 ** 20).toFixed(1)} MiB in ${(performance.now() - t).toFixed(0)} ms`);

/** Best of `reps` runs, in ms (best: the machine is shared, and the minimum is the least disturbed). */
async function best(f: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

async function readAll(source: ByteSource): Promise<number> {
  const npz = await openNpz(source);
  let n = 0;
  for (const m of npz.members) if (m.decodable) n += (await npz.read(m.name)).data.length;
  return n;
}

const rows: { step: string; ms: number; mibPerS: number | null }[] = [];
/** `bytes`: what the step gets through (the file), or 0 for the index steps, which read only headers. */
const row = (step: string, ms: number, bytes = size) => {
  const rate = bytes ? bytes / 2 ** 20 / (ms / 1000) : null;
  rows.push({ step, ms, mibPerS: rate });
  log(`${step.padEnd(64)} ${ms.toFixed(1).padStart(8)} ms${rate === null ? '' : `  ${rate.toFixed(0).padStart(6)} MiB/s`}`);
};

row('baseline: fs.readFile of the whole file', await best(() => readFile(file)));
const bytes = readFileSync(file);
row('baseline: CRC-32 of the whole file', await best(async () => crc32(bytes)));
row('index: openNpz(fileSource) (directory + .npy headers)', await best(async () => {
  const s = await fileSource(file);
  await openNpz(s);
  await s.close!();
}), 0);
row('index: openCheckpoint(fileSource) (+ key/shape checks)', await best(async () => {
  const s = await fileSource(file);
  await openCheckpoint(s);
  await s.close!();
}), 0);
row('read all: fileSource, one read per member, CRC, views', await best(async () => {
  const s = await fileSource(file);
  await readAll(s);
  await s.close!();
}));
row('read all: bytesSource over readFile bytes (unaligned: copies)', await best(() => readAll(bytesSource(file, bytes))));
row('read all: checkpoint.read (float32) of the 248 tensors', await best(async () => {
  const s = await fileSource(file);
  const c = await openCheckpoint(s);
  for (const k of c.tensors) await c.read(k.name);
  await s.close!();
}));
if (json) console.log(JSON.stringify(rows));
rmSync(dir, { recursive: true });
