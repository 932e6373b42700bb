// Seeded mutation fuzzing of the PNG and JPEG decoders over every kind of file they take (see
// decode-fuzz-cases.ts): each mutated file must decode or throw a one-line MusiqError naming the
// file — never a TypeError/RangeError, a hang or an allocation beyond the pixel limit — and each
// decode must take under 2 s. bench/fuzz-decoders.ts is the long run (≥ 100 000 mutations).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage } from '../../src/image/decode.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { fuzz, haveCjpeg, jpegSeeds, pngSeeds, type FuzzResult } from './fuzz-cases.ts';

const isMusiq = (e: unknown): e is Error => e instanceof MusiqError;

function report(kind: string, r: FuzzResult): void {
  console.log(`\n  ${kind} fuzz: ${r.runs} mutations in ${r.ms.toFixed(0)} ms, ${r.decoded} decoded, ${r.errors.size} distinct errors, slowest ${r.slowestMs.toFixed(1)} ms (${r.slowest})`);
}

function check(r: FuzzResult, minRuns: number, minErrors: number): void {
  // A decode of a ≤ 64×64 file takes ~0.1-5 ms here; 2 s is the bound, far above any
  // honest decode and far below a hang or a runaway allocation.
  assert.ok(r.slowestMs < 2000, `${r.slowest} took ${r.slowestMs.toFixed(0)} ms`);
  // Counts seen on this shared 2-core machine are ~5-20× these minimums; fewer means the loop broke.
  assert.ok(r.runs >= minRuns, `only ${r.runs} mutations ran`);
  // The mutations must reach many different checks, not die at the first one.
  assert.ok(r.errors.size >= minErrors, `only ${r.errors.size} distinct errors: ${[...r.errors.keys()].join(' | ')}`);
  // The size guards stay reached: forged sizes die at the pixel limit or at "the file is too small
  // for that many pixels", both before any pixel buffer is allocated.
  for (const guard of [/MP limit/, /cannot hold/]) assert.ok([...r.errors.keys()].some((m) => guard.test(m)), `no mutation reached ${guard}`);
  assert.ok(r.decoded > 0, 'some mutations (e.g. in ancillary data) still decode');
}

test('mutated PNGs (gray 1-16 bit, palette, tRNS, RGB(A) 8/16, interlaced, split IDAT): a result or a MusiqError, each < 2 s', () => {
  const r = fuzz(pngSeeds(), 20261202, 20000, 4000, decodeImage, isMusiq);
  report('PNG', r);
  check(r, 1000, 15);
});

if (!haveCjpeg) {
  test('mutated JPEGs: SKIPPED, cjpeg not found (install libjpeg-turbo-progs)', () => {
    console.log('\n  skipping the JPEG fuzz: cjpeg (libjpeg-turbo-progs) is not installed, so no seeds of each kind');
  });
} else {
  test('mutated JPEGs (baseline, 4:2:2, 4:4:4, progressive, restarts, gray, RGB, 16-bit tables): a result or a MusiqError, each < 2 s', () => {
    const r = fuzz(jpegSeeds(), 20261203, 20000, 5000, decodeImage, isMusiq);
    report('JPEG', r);
    check(r, 500, 15);
  });
}

test.run();
