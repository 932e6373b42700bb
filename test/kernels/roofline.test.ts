// The roofline microkernels compute what their flop and byte counts say they do, so the peak and
// bandwidth `musiq bench` reports are of real work, not of code the compiler dropped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { PEAK_CHAINS, emptyKernel, peakFma, peakFmaFlop, stream, streamBytes } from '../../src/kernels/roofline.ts';
import { peakFmaRef, streamRef } from '../../src/kernels/roofline.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

// f32: each of `iters` rounds rounds twice (or once when fused), relative 2^-24 each, and m < 1
// damps earlier errors, so the error stays below 2·iters·2^-24 per chain value (≤ 1): 5e-6 for 37
// rounds and 8 chains summed is loose by ~2x. f16: the same with 2^-11, plus the start values
// rounded to f16: 2·37·2^-11·8 ≈ 0.29 at worst, 0.3 is the bound written down.
const ITERS = 37;

for (const half of [false, true]) {
  for (const chains of PEAK_CHAINS) {
    test(`peak_fma ${half ? 'f16' : 'f32'} ×${chains} chains: every invocation's chains vs float64`, async () => {
      const rt = await gpu();
      if (half && !rt.features.has('shader-f16')) {
        console.log(`  SKIPPED f16 peak: ${rt.adapterName} has no shader-f16`);
        return;
      }
      const workgroups = 3;
      const out = rt.empty([workgroups * 64 * 4]);
      peakFma(rt, out, { workgroups, iters: ITERS, chains, half });
      const got = await rt.read(out);
      const tol = half ? 0.3 : 8 * 2 * ITERS * 2 ** -24 * 4;
      for (let i = 0; i < workgroups * 64; i++) {
        const want = peakFmaRef(i, ITERS, chains);
        for (let l = 0; l < 4; l++) {
          const err = Math.abs(got[4 * i + l] - want[l]);
          if (!(err <= tol)) assert.unreachable(`invocation ${i} lane ${l}: ${got[4 * i + l]} vs ${want[l]} (tol ${tol})`);
        }
      }
      out.dispose();
    });
  }
}

test('peakFmaFlop counts 2 flop per lane, 4 lanes, per chain, round and invocation', () => {
  assert.is(peakFmaFlop({ workgroups: 3, iters: 10, chains: 4 }), 3 * 64 * 10 * 4 * 4 * 2);
});

for (const kind of ['copy', 'triad'] as const) {
  for (const n of [4, 1020, 70_004]) {
    test(`stream ${kind} n=${n} vs float64`, async () => {
      const rt = await gpu();
      const b = randomArray(n, n, 3), c = randomArray(n, n + 1, 3);
      const tb = rt.upload(b), tc = rt.upload(c), ta = rt.zeros([n]);
      stream(rt, kind, ta, tb, tc, 0.5);
      const got = await rt.read(ta);
      const want = streamRef(kind, b, c, 0.5);
      // One multiply and one add in f32, possibly fused: 2 roundings of values below 4.5.
      for (let i = 0; i < n; i++) if (!(Math.abs(got[i] - want[i]) <= 4.5 * 2 * 2 ** -24)) assert.unreachable(`${i}: ${got[i]} vs ${want[i]}`);
      for (const t of [ta, tb, tc]) t.dispose();
    });
  }
}

test('streamBytes: copy moves 8 bytes per value, triad 12', () => {
  assert.is(streamBytes('copy', 100), 800);
  assert.is(streamBytes('triad', 100), 1200);
});

test('stream rejects sizes that are not a multiple of 4 and aliasing', async () => {
  const rt = await gpu();
  const a = rt.zeros([6]), b = rt.zeros([6]);
  assert.throws(() => stream(rt, 'copy', a, b, b), (e: unknown) => e instanceof MusiqError && /multiple of 4/.test((e as Error).message));
  const c = rt.zeros([8]);
  assert.throws(() => stream(rt, 'triad', c, c, c), (e: unknown) => e instanceof MusiqError && /alias/.test((e as Error).message));
  for (const t of [a, b, c]) t.dispose();
});

test('empty kernel writes its one word', async () => {
  const rt = await gpu();
  const out = rt.zeros([1], 'u32');
  emptyKernel(rt, out);
  assert.equal([...(await rt.read(out))], [1]);
  out.dispose();
});

test.run();
