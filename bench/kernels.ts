// Kernel benchmarks: runs every bench/kernels/*.ts module (each exports `bench: KernelBench`)
// on ONE profiling runtime and prints a table, or with --json one JSON array of Measurements
// on stdout and nothing else (progress goes to stderr).
// Usage: npm run bench:kernels [-- --json] [-- --quick] [-- <module name>...]
import { readdirSync } from 'node:fs';
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import type { KernelBench, Measurement } from './harness.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const log = (line: string) => console.error(line);

const dir = new URL('./kernels/', import.meta.url);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => names.length === 0 || names.includes(name))
  .sort();
if (modules.length === 0) {
  log(`bench:kernels: no benchmark module matches ${names.join(', ')} in bench/kernels/`);
  process.exit(1);
}

const rt = await createNodeRuntime({ profile: true });
if (!rt.profiling) log('bench:kernels: this adapter has no timestamp queries; timing with the wall clock around each sync');
log(`bench:kernels on ${rt.adapterName}${quick ? ' (quick)' : ''}: ${modules.join(', ')}`);
const results: Measurement[] = [];
let failed = 0;
for (const name of modules) {
  const t0 = performance.now();
  try {
    const mod = (await import(new URL(`${name}.ts`, dir).href)) as { bench?: KernelBench };
    if (typeof mod.bench !== 'function') throw new Error('exports no `bench` function');
    const rows = await mod.bench(rt, { quick });
    results.push(...rows);
    log(`  ${name}: ${rows.length} measurements in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    failed++;
    log(`  ${name}: FAILED: ${(e as Error).message}`);
  }
}
rt.destroy();

if (json) {
  process.stdout.write(JSON.stringify(results) + '\n');
} else {
  console.log(table(results));
  console.log(`adapter: ${rt.adapterName}; times are ${rt.profiling ? 'GPU timestamps' : 'wall clock'}, median of the runs`);
}
process.exitCode = failed ? 1 : 0;

/** Fixed-width table; "vs naive" where the same kernel and shape also has a naive row. */
function table(rows: Measurement[]): string {
  const naive = new Map(rows.filter((r) => r.variant === 'naive').map((r) => [`${r.kernel} ${r.shape.join('×')}`, r.ms]));
  const head = ['kernel', 'variant', 'shape', 'ms', 'GFLOP/s', 'vs naive', 'chosen'];
  const body = rows.map((r) => {
    const base = naive.get(`${r.kernel} ${r.shape.join('×')}`);
    return [r.kernel, r.variant, r.shape.join('×'), r.ms.toFixed(2), r.gflops === null ? '' : r.gflops.toFixed(2), base === undefined ? '' : `${(base / r.ms).toFixed(1)}×`, r.chosen ? '*' : ''];
  });
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ');
  return [line(head), line(width.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}
