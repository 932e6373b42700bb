import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../gpu.ts';
import { gelu } from '../../src/kernels/gelu.ts';
import { geluRef } from '../../src/kernels/gelu.ref.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { randomArray } from '../../tools/random.ts';

const EPS = 2 ** -24;

/**
 * WGSL (and Vulkan) give tanh no precision of its own: it is "inherited from" sinh/cosh,
 * i.e. from exp, whose error is (3 + 2|a|) ulp at argument a = 2u. Through tanh that is an
 * absolute error ≤ (3 + 4|u|)·ε for |u| ≤ 10 (the clamp); the cubic argument u carries
 * ≤ 6 roundings, ≤ 6ε|u| through tanh' ≤ 1. Scaled by 0.5|x|, plus ~3 roundings of y.
 */
function tolerance(x: number, y: number): number {
  const u = Math.min(Math.abs(0.7978845608028654 * (x + 0.044715 * x ** 3)), 10);
  return 0.5 * Math.abs(x) * (3 + 10 * u) * EPS + 3 * EPS * Math.abs(y) + 1e-30;
}

async function check(x: Float32Array, what: string): Promise<Float32Array> {
  const rt = await gpu();
  const tx = rt.upload(x);
  const ty = gelu(rt, tx);
  const got = await rt.read(ty);
  const want = geluRef(x);
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tolerance(x[i], want[i]))) assert.unreachable(`${what}: gelu(${x[i]}) = ${got[i]}, want ${want[i]} (|err| ${err.toExponential(2)})`);
  }
  tx.dispose();
  ty.dispose();
  return got;
}

for (const n of [1, 7, 255, 257, 100_003]) {
  test(`gelu n=${n} random in [-8, 8) vs float64`, () => check(randomArray(n, n, 8), `n=${n}`).then(() => undefined));
}

test('gelu across the transition region [-6, 6] in steps of 1/64', () => check(Float32Array.from({ length: 769 }, (_, i) => -6 + i / 64), 'transition').then(() => undefined));

test('gelu of huge |x| is finite: x for large positive, 0 for large negative', async () => {
  const big = [1e4, -1e4, 3e3, -3e3, 1e20, -1e20, 3.4e38, -3.4e38, 0, -0];
  const got = await check(Float32Array.from(big), 'huge');
  for (let i = 0; i < big.length; i++) {
    assert.ok(Number.isFinite(got[i]), `gelu(${big[i]}) = ${got[i]}`);
    assert.is(got[i], big[i] > 0 ? Math.fround(big[i]) : 0, `gelu(${big[i]}) = ${got[i]}`);
  }
});

test('gelu over more than 65535 workgroups (2-D grid) reaches the last element', async () => {
  const rt = await gpu();
  const n = 256 * 65535 + 77;
  const x = new Float32Array(n).fill(-1);
  x[n - 1] = 2;
  const tx = rt.upload(x);
  const ty = gelu(rt, tx);
  const tail = await rt.read(ty, 2, n - 2);
  const want = geluRef([-1, 2]);
  assert.ok(Math.abs(tail[0] - want[0]) < 1e-6 && Math.abs(tail[1] - want[1]) < 1e-6, `tail ${tail}`);
  tx.dispose();
  ty.dispose();
});

test('gelu rejects out === x and a size mismatch with a MusiqError', async () => {
  const rt = await gpu();
  const x = rt.upload(new Float32Array(4));
  assert.throws(() => gelu(rt, x, x), (e: Error) => e instanceof MusiqError && /must not be x/.test(e.message));
  assert.throws(() => gelu(rt, x, rt.empty([3])), (e: Error) => e instanceof MusiqError && /4 values/.test(e.message));
  x.dispose();
});

test.run();
