// The shipped benchmark's logic without timings in any assertion: the roofline arithmetic, the
// sanity rules (a wrong flop count shows up above the peak), --compare's matching and ratios, the
// CLI's answers to bad input, and one real run whose every GFLOP/s stays under the measured peak.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attainable, checkReport, kernelRow, ROOF_MARGIN, verdicts } from '../../src/bench/report.ts';
import { compareReports, formatComparison, parseReport } from '../../src/bench/compare.ts';
import { runBench, tokensFor } from '../../src/bench/run.ts';
import { remeasureFmaPeak } from '../../src/bench/peak.ts';
import { BENCH_SCHEMA, type BenchKernelRow, type BenchReport } from '../../src/bench/schema.ts';
import { createNodeRuntime } from '../../src/runtime/gpu.node.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { syntheticImage } from '../../src/bench/synthetic-image.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const peak = { fmaGflops: 100, bandwidthGBps: 10 };

function row(kernel: string, variant: string, flop: number | null, bytes: number, ms: number, chosen = true): BenchKernelRow {
  return kernelRow({ group: kernel.split(' ')[0], kernel, variant, shape: [8, 8], flop, bytes, compileMs: null, chosen }, { ms, p95Ms: ms * 1.1, samples: 5 }, peak);
}

function report(kernels: BenchKernelRow[], over: Partial<BenchReport> = {}): BenchReport {
  return {
    schema: BENCH_SCHEMA,
    createdAt: '2026-01-01T00:00:00.000Z',
    package: { name: 'musiq-webgpu', version: '0.0.0' },
    runtime: { name: 'node', version: '20' },
    adapter: { description: 'test adapter', vendor: 'v', architecture: 'a', device: 'd', isFallback: false, subgroupMinSize: 8, subgroupMaxSize: 8, features: [], limits: {} },
    options: { width: 64, height: 48, tokens: 154, quick: true, groups: [] },
    timing: { method: 'timestamp-query', compile: '', driverCache: '' },
    peak: { ...peak, fmaF16Gflops: null, bandwidthBySize: [], dispatchMs: 1, dispatchGpuMs: 0.1, uploadGBps: 1, readbackGBps: 1 },
    kernels,
    verdicts: verdicts(kernels),
    model: [{ width: 64, height: 48, tokens: 154, coldMs: 9000, warmMs: 500, imagesPerSecond: 2 }],
    notes: [],
    ...over,
  };
}

test('roofline: min(peak, intensity × bandwidth), and which of the two bounds', () => {
  // 1 flop/byte × 10 GB/s = 10 GFLOP/s < 100: memory-bound; 100 flop/byte: compute-bound.
  assert.equal(attainable(peak, 1e6, 1e6), { gflops: 10, bound: 'memory' });
  assert.equal(attainable(peak, 1e8, 1e6), { gflops: 100, bound: 'compute' });
  // 2e9 flop in 40 ms = 50 GFLOP/s of a 100 roof; 1 MB in 0.2 ms = 5 GB/s of 10.
  const mm = row('matmul x', 'tiled', 2e9, 1e6, 40);
  assert.ok(Math.abs(mm.gflops! - 50) < 1e-9 && Math.abs(mm.roofline - 0.5) < 1e-9 && mm.bound === 'compute');
  const pool = row('maxpool x', 'default', null, 1e6, 0.2);
  assert.ok(pool.gflops === null && Math.abs(pool.gbps - 5) < 1e-9 && Math.abs(pool.roofline - 0.5) < 1e-9);
});

test('verdicts: the best variant by time-weighted roofline, and what was chosen', () => {
  const rows = [row('matmul a', 'tiled', 2e9, 1e6, 40, false), row('matmul a', 'blocked', 2e9, 1e6, 25, true), row('matmul b', 'tiled', 1e9, 1e6, 20, false), row('matmul b', 'blocked', 1e9, 1e6, 25, true)];
  const [v] = verdicts(rows);
  // tiled: (40·0.5 + 20·0.5)/60 = 0.5; blocked: (25·0.8 + 25·0.4)/50 = 0.6.
  assert.is(v.variant, 'blocked');
  assert.ok(Math.abs(v.roofline - 0.6) < 1e-9);
  assert.match(v.text, /^matmul: 60% of roofline, compute-bound/);
});

test('checkReport: a sound report passes; a flop count 10× too high is caught above the peak', () => {
  const good = report([row('matmul a', 'tiled', 2e9, 1e6, 40), row('maxpool x', 'default', null, 1e6, 0.2)]);
  assert.equal(checkReport(good), []);
  const wrong = report([row('matmul a', 'tiled', 2e10, 1e6, 40)]);
  const problems = checkReport(wrong);
  assert.ok(problems.some((p) => /exceeds the measured peak/.test(p)), problems.join('; '));
  assert.ok(problems.some((p) => /roofline fraction/.test(p)), problems.join('; '));
  assert.ok(checkReport({ ...good, schema: 'other/1' as typeof BENCH_SCHEMA }).length > 0);
  assert.ok(checkReport(report([row('matmul a', 'tiled', 2e9, 1e6, 40, false)])).some((p) => /0 rows marked chosen/.test(p)));
});

test('compare: rows matched by kernel, variant and shape; ratios to the first file; missing rows', () => {
  const a = report([row('matmul a', 'tiled', 2e9, 1e6, 40), row('gelu g', 'default', null, 1e6, 0.2)]);
  const b = report([row('matmul a', 'tiled', 2e9, 1e6, 20), row('matmul a', 'blocked', 2e9, 1e6, 10, false)], { peak: { ...a.peak, fmaGflops: 300 } });
  const rows = compareReports([a, b]);
  const find = (key: string) => rows.find((r) => r.key === key)!;
  assert.equal(find('matmul a tiled 8×8').values, [50, 100]);
  assert.equal(find('matmul a tiled 8×8').ratios, [1, 2]);
  assert.equal(find('matmul a blocked 8×8').values, [null, 200]);
  assert.equal(find('matmul a blocked 8×8').ratios, [null, null]);
  assert.equal(find('gelu g default 8×8').values, [5, null]);
  assert.equal(find('multiply-add f32').ratios, [1, 3]);
  const text = formatComparison(['a.json', 'b.json'], [a, b], rows);
  assert.match(text, /missing/);
  assert.match(text, /2\.00×/);
});

test('parseReport names the file: not JSON, another schema', () => {
  assert.throws(() => parseReport('x.json', '{'), /x\.json: not JSON/);
  assert.throws(() => parseReport('y.json', '{"schema":"other/2"}'), /y\.json: not a musiq-bench\/1 report/);
});

test('tokensFor agrees with preprocess', () => {
  for (const [w, h] of [[1024, 768], [512, 384], [64, 48], [321, 448]]) {
    assert.is(tokensFor(w, h), preprocess(syntheticImage(w, h)).tokens, `${w}×${h}`);
  }
});

function musiq(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, 'tools', 'musiq.js'), 'bench', ...args], { cwd: root });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('CLI: usage errors are one line and exit 2; unreadable or foreign --compare files exit 1', async () => {
  for (const args of [['--bogus'], ['--size', '10x10'], ['--size', 'big'], ['--groups', 'matmul,nope'], ['--compare', 'only-one.json']]) {
    const r = await musiq(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.is(r.stdout, '');
  }
  const dir = mkdtempSync(join(tmpdir(), 'musiq-bench-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(report([row('matmul a', 'tiled', 2e9, 1e6, 40)])));
  writeFileSync(join(dir, 'foreign.json'), JSON.stringify({ schema: 'something-else' }));
  for (const [other, why] of [[join(dir, 'absent.json'), /cannot read .*absent\.json: ENOENT/], [join(dir, 'foreign.json'), /foreign\.json: not a musiq-bench\/1 report/]] as const) {
    const r = await musiq(['--compare', good, other]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, why);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const r = await musiq(['--compare', good, good]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /kernel matmul a tiled 8×8\s+GFLOP\/s\s+50\.00\s+50\.00\s+1\.00×/);
});

// The flop-heavy groups on a small image through the real launchers: no GFLOP/s may exceed the
// peak measured in the same run by more than ROOF_MARGIN (a wrong count is off by a factor).
test('a real quick run: every row passes checkReport (GFLOP/s under the measured peak)', async () => {
  const r = await runBench(
    { open: (profile) => createNodeRuntime({ profile }), runtime: { name: 'node', version: process.versions.node }, packageVersion: 'test', driverCache: () => 'unknown', log: () => {} },
    { width: 64, height: 48, quick: true, groups: ['matmul', 'attention', 'conv2d', 'stem', 'layernorm', 'groupnorm'], modelSizes: [] },
  );
  const worst = r.kernels.reduce((a, k) => ((k.gflops ?? 0) > (a.gflops ?? 0) ? k : a));
  console.log(`\n  peak ${r.peak.fmaGflops.toFixed(1)} GFLOP/s; fastest row ${worst.kernel} ${worst.variant} ${worst.gflops?.toFixed(1)} GFLOP/s (${(100 * worst.roofline).toFixed(0)}% of roofline); margin ${ROOF_MARGIN * 100}%`);
  assert.equal(checkReport(r), []);
  assert.ok(r.kernels.some((k) => k.group === 'matmul' && k.chosen));
  assert.ok(r.kernels.every((k) => k.shape.length > 0 && k.samples >= 2));
});

// Where an adapter has no timestamp queries (or a runtime does not profile) the report says
// "wall clock" and still holds to the same rules.
test('a wall-clock run says so and passes the same checks', async () => {
  const r = await runBench(
    { open: () => createNodeRuntime({ profile: false }), runtime: { name: 'node', version: process.versions.node }, packageVersion: 'test', driverCache: () => 'unknown', log: () => {} },
    { width: 64, height: 48, quick: true, groups: ['gelu', 'softmax'], modelSizes: [] },
  );
  assert.is(r.timing.method, 'wall-clock');
  assert.ok(r.notes.some((n) => /wall clock/.test(n)), r.notes.join('; '));
  assert.is(r.peak.dispatchGpuMs, null);
  assert.equal(checkReport(r), []);
});

test('remeasureFmaPeak keeps the better of the two measurements, f32 and f16 alike', async () => {
  const rt = await createNodeRuntime();
  try {
    const o = { quick: true, log: () => {}, counter: { created: 0 } };
    const f16 = rt.features.has('shader-f16');
    // A peak far above any adapter's stays; one far below is replaced by what was measured.
    const high = { fmaGflops: 1e9, fmaF16Gflops: f16 ? 1e9 : null } as BenchReport['peak'];
    await remeasureFmaPeak(rt, high, o);
    assert.is(high.fmaGflops, 1e9);
    assert.is(high.fmaF16Gflops, f16 ? 1e9 : null);
    const low = { fmaGflops: 1e-9, fmaF16Gflops: f16 ? 1e-9 : null } as BenchReport['peak'];
    await remeasureFmaPeak(rt, low, o);
    assert.ok(low.fmaGflops > 1e-3 && low.fmaGflops < 1e9, `measured ${low.fmaGflops}`);
    if (f16) assert.ok(low.fmaF16Gflops! > 1e-3, `measured f16 ${low.fmaF16Gflops}`);
  } finally {
    rt.destroy();
  }
});

test('checkReport accepts a run of no kernel groups (--groups none)', () => {
  const r = report([]);
  assert.equal(checkReport({ ...r, options: { ...r.options, groups: [] } }), []);
  assert.ok(checkReport({ ...r, options: { ...r.options, groups: ['matmul'] } }).includes('no kernel rows'));
});

test.run();
