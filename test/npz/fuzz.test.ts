// Seeded mutation fuzzing of small valid .npz files (stored, deflated, data descriptors, zip64 end
// records): byte changes, biased towards the headers and directory, and truncations. The reader
// must return a result or throw its own MusiqError — never a TypeError/RangeError, a hang, or an
// allocation far beyond the file (sizes are checked against the file before anything is allocated).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { writeNpz } from '../../src/npz/writer.ts';
import { MAX_DEFLATE_RATIO } from '../../src/npz/zip.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { mulberry32 } from '../../tools/random.ts';

const dir = fileURLToPath(new URL('../fixtures/npz/', import.meta.url));
const member = (name: string, n: number) => {
  const data = new Uint8Array(new Float32Array(n).map((_, i) => i).buffer);
  return { name, descr: '<f4', shape: [n], byteLength: data.length, data: () => data };
};
const seeds: Record<string, Uint8Array> = {
  stored: writeNpz([member('a', 6), member('opt/target/b', 3)]),
  deflated: writeNpz([member('a', 40), member('b', 3)], { deflate: true }),
  numpyCompressed: new Uint8Array(readFileSync(dir + 'numpy_savez_compressed.npz')),
  numpyStream: new Uint8Array(readFileSync(dir + 'numpy_stream.npz')),
  zip64: new Uint8Array(readFileSync(dir + 'zip64_comment.npz')),
};

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  const kind = pick(4);
  if (kind === 0) return src.subarray(0, pick(src.length)); // truncation
  const b = src.slice();
  // Half the changes land in the last 160 bytes (central directory + end records), where one byte
  // steers offsets and sizes; the rest anywhere (local headers, .npy headers, deflate streams).
  const at = () => (r() < 0.5 ? b.length - 1 - pick(Math.min(160, b.length)) : pick(b.length));
  const special = [0x00, 0xff, 0x7f, 0x80, 0x01];
  for (let k = 1 + pick(kind === 1 ? 1 : 4); k > 0; k--) b[at()] = r() < 0.3 ? special[pick(special.length)] : pick(256);
  return kind === 3 ? b.subarray(0, b.length - pick(8)) : b;
}

test('mutated .npz files: a result or a MusiqError, quickly, with bounded sizes', async () => {
  const r = mulberry32(20240607);
  const names = Object.keys(seeds);
  const budgetMs = 3000, t0 = performance.now();
  let runs = 0, opened = 0, slowest = 0;
  const errors = new Map<string, number>();
  for (; runs < 20000 && performance.now() - t0 < budgetMs; runs++) {
    const name = names[runs % names.length];
    const bytes = mutate(seeds[name], r);
    const t = performance.now();
    try {
      const npz = await openNpz(bytesSource(`${name}#${runs}`, bytes));
      for (const m of npz.members) {
        // What `read` would allocate is bounded by the file, as the directory was checked.
        assert.ok(m.compressedSize <= bytes.length && m.size <= m.compressedSize * MAX_DEFLATE_RATIO + 1024, `${name}#${runs} ${m.name}`);
        if (m.decodable) await npz.read(m.name);
      }
      opened++;
    } catch (e) {
      if (!(e instanceof MusiqError)) {
        throw new Error(`${name} mutation #${runs} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
      }
      assert.not.match(e.message, /\n/, `one-line message: ${JSON.stringify(e.message)}`);
      const what = e.message.replace(/^[^:]*: /, '').replace(/member "[^"]*"/, 'member').replace(/\d+/g, 'N').slice(0, 60);
      errors.set(what, (errors.get(what) ?? 0) + 1);
    }
    slowest = Math.max(slowest, performance.now() - t);
  }
  console.log(`\n  fuzz: ${runs} mutations in ${(performance.now() - t0).toFixed(0)} ms, ${opened} still valid, ${errors.size} distinct errors, slowest ${slowest.toFixed(1)} ms`);
  // ~2000-7000 run in the budget on this shared 2-core machine; fewer than 500 means the loop is broken.
  assert.ok(runs >= 500, `only ${runs} mutations ran in ${budgetMs} ms`);
  assert.ok(slowest < 1000, `one input took ${slowest} ms`);
  assert.ok(errors.size >= 10, 'the mutations reach many different checks');
});

test.run();
