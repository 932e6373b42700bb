// The profile's GFLOP/s come from the shapes the launchers write into their dispatch labels:
// these tests run each launcher and check the flop read back from its real label against the
// op's flop count written out here, so a label format change cannot silently zero a rate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { matmul } from '../../src/kernels/matmul.ts';
import { attention } from '../../src/kernels/attention.ts';
import { conv2d } from '../../src/kernels/conv2d.ts';
import { groupTimings, labelFlop } from '../../bench/profile-groups.ts';
import { newRuntime } from '../gpu.ts';

test('matmul, attention and conv2d labels give their flop counts', async () => {
  const rt = await newRuntime({ profile: true });
  try {
    if (!rt.profiling) return skip('timestamp-query', `${rt.adapterName} has no timestamp-query`);
    const [M, K, N] = [5, 12, 8];
    matmul(rt, rt.zeros([M, K]), rt.zeros([K, N]));
    const [T, H, Dh] = [7, 2, 8];
    attention(rt, rt.zeros([T, 3 * H * Dh]), { heads: H, headDim: Dh });
    attention(rt, rt.zeros([T, 3 * H * Dh]), { heads: H, headDim: Dh, queries: 1 });
    // 2×5×3 input, 3×3 stride 2, SAME: 1×3×2 = 6 output pixels per image.
    conv2d(rt, rt.zeros([2, 5, 3, 4]), rt.zeros([3, 3, 4, 8]), { stride: 2 });
    await rt.sync();
    const flop = (await rt.timings()).map((t) => labelFlop(t.label));
    assert.equal(flop, [2 * M * K * N, 2 * 2 * T * T * H * Dh, 2 * 2 * 1 * T * H * Dh, 2 * (2 * 3 * 2) * 3 * 3 * 4 * 8]);
    // A K long enough to be split over dispatches on a CPU adapter: the parts' flop add up.
    const long = 8200;
    matmul(rt, rt.zeros([M, long]), rt.zeros([long, N]));
    await rt.sync();
    const parts = (await rt.timings()).map((t) => labelFlop(t.label));
    assert.is(parts.reduce((a: number, b) => a + (b ?? NaN), 0), 2 * M * long * N, `${parts.length} dispatches`);
  } finally {
    rt.destroy();
  }
});

test('groupTimings sums per kernel, splits matmul by K×N (a split K under its whole K), and has no rate for an unknown label', () => {
  const rows = groupTimings([
    { label: 'matmul_subgroup 10×384×1152', ms: 2 },
    { label: 'matmul_subgroup 20×384×1152', ms: 3 },
    { label: 'matmul_blocked 10×1152×384', ms: 1 },
    { label: 'layernorm', ms: 4 },
    { label: 'matmul_subgroup 10×4096×384 of K 8192', ms: 1 },
    { label: 'matmul_subgroup 10×4096×384 of K 8192', ms: 1 },
  ]);
  assert.equal(rows, [
    { group: 'matmul_subgroup', ms: 7, dispatches: 4, flop: 2 * 30 * 384 * 1152 + 2 * 10 * 8192 * 384 },
    { group: '  matmul K×N 384×1152', ms: 5, dispatches: 2, flop: 2 * 30 * 384 * 1152 },
    { group: '  matmul K×N 8192×384', ms: 2, dispatches: 2, flop: 2 * 10 * 8192 * 384 },
    { group: '  matmul K×N 1152×384', ms: 1, dispatches: 1, flop: 2 * 10 * 1152 * 384 },
    { group: 'layernorm', ms: 4, dispatches: 1, flop: null },
    { group: 'matmul_blocked', ms: 1, dispatches: 1, flop: 2 * 10 * 1152 * 384 },
  ]);
});

test.run();
