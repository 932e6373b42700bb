// `musiq bench --compare a.json b.json …`: rows matched by kernel, variant and shape, each file's
// rate beside the first file's, and the ratio (> 1: faster than the first). Two GPUs, Node against
// a browser, or this release against the last one.
import { MusiqError } from '../common/errors.ts';
import { BENCH_SCHEMA, type BenchReport } from './schema.ts';
import { table } from './report.ts';

export interface CompareRow {
  /** "peak", "kernel" or "model". */
  section: string;
  key: string;
  /** What `values` hold: GFLOP/s where the row has flop, GB/s otherwise, images/s for the model. */
  unit: string;
  /** One per file, null where the file has no such row. */
  values: (number | null)[];
  /** values[i] / values[0], null where either is missing. */
  ratios: (number | null)[];
}

/** Parses one report file's text; a MusiqError naming the file if it is not a musiq-bench/1 report. */
export function parseReport(name: string, text: string): BenchReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new MusiqError(`${name}: not JSON (${(e as Error).message})`);
  }
  const schema = (data as { schema?: unknown } | null)?.schema;
  if (schema !== BENCH_SCHEMA) throw new MusiqError(`${name}: not a ${BENCH_SCHEMA} report (schema ${JSON.stringify(schema ?? null)})`);
  const r = data as BenchReport;
  if (!Array.isArray(r.kernels) || !r.peak || !Array.isArray(r.model)) throw new MusiqError(`${name}: a ${BENCH_SCHEMA} report without its kernels, peak or model fields`);
  return r;
}

export function compareReports(reports: readonly BenchReport[]): CompareRow[] {
  const rows = new Map<string, CompareRow>();
  const put = (section: string, key: string, unit: string, i: number, value: number) => {
    const id = `${section}|${key}|${unit}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { section, key, unit, values: reports.map(() => null), ratios: [] }));
    row.values[i] = value;
  };
  reports.forEach((r, i) => {
    put('peak', 'multiply-add f32', 'GFLOP/s', i, r.peak.fmaGflops);
    if (r.peak.fmaF16Gflops !== null) put('peak', 'multiply-add f16', 'GFLOP/s', i, r.peak.fmaF16Gflops);
    put('peak', 'bandwidth', 'GB/s', i, r.peak.bandwidthGBps);
    for (const k of r.kernels) {
      const key = `${k.kernel} ${k.variant} ${k.shape.join('×')}`;
      if (k.gflops !== null) put('kernel', key, 'GFLOP/s', i, k.gflops);
      else put('kernel', key, 'GB/s', i, k.gbps);
    }
    for (const m of r.model) put('model', `${m.width}×${m.height}`, 'images/s', i, m.imagesPerSecond);
  });
  for (const row of rows.values()) {
    const first = row.values[0];
    row.ratios = row.values.map((v) => (v === null || first === null || first === 0 ? null : v / first));
  }
  return [...rows.values()];
}

export function formatComparison(names: readonly string[], reports: readonly BenchReport[], rows: readonly CompareRow[]): string {
  const head = ['', 'unit', ...names.flatMap((n, i) => (i === 0 ? [n] : [n, '×first']))];
  const body = rows.map((r) => [
    `${r.section} ${r.key}`,
    r.unit,
    ...r.values.flatMap((v, i) => {
      const cell = v === null ? 'missing' : v >= 100 ? v.toFixed(0) : v >= 0.01 ? v.toFixed(2) : v.toPrecision(2);
      if (i === 0) return [cell];
      const q = r.ratios[i];
      return [cell, q === null ? '' : `${q.toFixed(2)}×`];
    }),
  ]);
  const legend = names.map((n, i) => `${n}: ${reports[i].adapter.description} on ${reports[i].runtime.name} ${reports[i].runtime.version}, musiq ${reports[i].package.version}, ${reports[i].timing.method}`);
  return [...legend, '', table(head, body, (i) => i >= 2)].join('\n');
}
