// From timings to the report: GFLOP/s, GB/s and the roofline fraction of every row, one verdict
// per group, the terminal table, and the sanity rules every report must pass.
import type { BenchKernelRow, BenchPeak, BenchReport } from './schema.ts';
import { BENCH_SCHEMA } from './schema.ts';

/**
 * How far a rate may exceed the measured roof before the report counts as wrong: the peak and
 * bandwidth are the best samples of short runs, the kernels medians of later ones, and on a shared
 * machine a neighbour can slow the roofline runs more than the kernels'. Seen: a GroupNorm at 1.34×
 * its memory roof while the host's load average was 8 (the bandwidth runs got 6.5 GB/s, a quieter
 * run 10.7). Past 50%, a flop or byte count is the likelier cause (a count off by a factor is off
 * by 2× or more).
 */
export const ROOF_MARGIN = 0.5;

/** Where the roofline puts a kernel of `flop` over `bytes`: the attainable GFLOP/s and what bounds it. */
export function attainable(peak: Pick<BenchPeak, 'fmaGflops' | 'bandwidthGBps'>, flop: number, bytes: number): { gflops: number; bound: 'compute' | 'memory' } {
  const memory = (flop / bytes) * peak.bandwidthGBps;
  return memory < peak.fmaGflops ? { gflops: memory, bound: 'memory' } : { gflops: peak.fmaGflops, bound: 'compute' };
}

export function kernelRow(
  base: Pick<BenchKernelRow, 'group' | 'kernel' | 'variant' | 'shape' | 'flop' | 'bytes' | 'compileMs' | 'chosen'>,
  t: { ms: number; p95Ms: number; samples: number },
  peak: Pick<BenchPeak, 'fmaGflops' | 'bandwidthGBps'>,
): BenchKernelRow {
  const gbps = base.bytes / t.ms / 1e6;
  if (base.flop === null) {
    return { ...base, ...t, gflops: null, gbps, intensity: null, roofline: gbps / peak.bandwidthGBps, bound: 'memory' };
  }
  const gflops = base.flop / t.ms / 1e6;
  const roof = attainable(peak, base.flop, base.bytes);
  return { ...base, ...t, gflops, gbps, intensity: base.flop / base.bytes, roofline: gflops / roof.gflops, bound: roof.bound };
}

/** Per group: the variant with the best time-weighted roofline fraction over the group's rows. */
export function verdicts(rows: readonly BenchKernelRow[]): BenchReport['verdicts'] {
  const groups = [...new Set(rows.map((r) => r.group))];
  return groups.map((group) => {
    const mine = rows.filter((r) => r.group === group);
    const variants = [...new Set(mine.map((r) => r.variant))];
    const scored = variants.map((variant) => {
      const vr = mine.filter((r) => r.variant === variant);
      const ms = vr.reduce((a, r) => a + r.ms, 0);
      const slowest = vr.reduce((a, r) => (r.ms > a.ms ? r : a));
      return { variant, roofline: vr.reduce((a, r) => a + r.ms * r.roofline, 0) / ms, bound: slowest.bound, rows: vr.length };
    });
    // A variant that cannot run every shape of the group is only best among equals.
    const most = Math.max(...scored.map((s) => s.rows));
    const best = scored.filter((s) => s.rows === most).reduce((a, s) => (s.roofline > a.roofline ? s : a));
    const chosen = [...new Set(mine.filter((r) => r.chosen).map((r) => r.variant))];
    const alt = chosen.length && !chosen.includes(best.variant) ? `; chosen: ${chosen.join(', ')}` : '';
    const text = `${group}: ${(100 * best.roofline).toFixed(0)}% of roofline, ${best.bound}-bound (${best.variant === 'default' ? 'its one kernel' : `best ${best.variant}`}${alt})`;
    return { group, variant: best.variant, roofline: best.roofline, bound: best.bound, chosen, text };
  });
}

/** Every way a report can be wrong without a timing being involved: schema, counts, roofline. */
export function checkReport(r: BenchReport, margin = ROOF_MARGIN): string[] {
  const problems: string[] = [];
  if (r.schema !== BENCH_SCHEMA) problems.push(`schema is ${JSON.stringify(r.schema)}, not ${BENCH_SCHEMA}`);
  for (const [k, v] of Object.entries({ 'runtime.name': r.runtime?.name, 'runtime.version': r.runtime?.version, 'adapter.description': r.adapter?.description })) {
    if (typeof v !== 'string' || v === '') problems.push(`${k} is missing`);
  }
  const positive = (name: string, v: unknown) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) problems.push(`${name} is ${v}, not a positive number`);
  };
  positive('peak.fmaGflops', r.peak?.fmaGflops);
  positive('peak.bandwidthGBps', r.peak?.bandwidthGBps);
  if (!Array.isArray(r.kernels) || (r.kernels.length === 0 && r.options?.groups?.length !== 0)) problems.push('no kernel rows');
  for (const k of r.kernels ?? []) {
    const id = `${k.kernel} ${k.variant} ${k.shape?.join('×')}`;
    positive(`${id}: ms`, k.ms);
    if (!(k.p95Ms >= k.ms)) problems.push(`${id}: p95 ${k.p95Ms} ms below the median ${k.ms} ms`);
    if (k.gflops !== null) {
      positive(`${id}: gflops`, k.gflops);
      if (k.gflops > r.peak.fmaGflops * (1 + margin)) problems.push(`${id}: ${k.gflops.toFixed(2)} GFLOP/s exceeds the measured peak ${r.peak.fmaGflops.toFixed(2)} by more than ${margin * 100}%`);
    }
    if (!(k.roofline > 0 && k.roofline <= 1 + margin)) problems.push(`${id}: roofline fraction ${k.roofline} is not in (0, ${1 + margin}]`);
    if (typeof k.chosen !== 'boolean' || !(k.compileMs === null || k.compileMs >= 0)) problems.push(`${id}: chosen/compileMs malformed`);
  }
  for (const g of new Set((r.kernels ?? []).map((k) => k.kernel))) {
    const n = r.kernels.filter((k) => k.kernel === g && k.chosen).length;
    if (n !== 1) problems.push(`${g}: ${n} rows marked chosen, expected 1`);
  }
  for (const m of r.model ?? []) {
    for (const f of ['coldMs', 'warmMs', 'imagesPerSecond', 'tokens'] as const) positive(`model ${m.width}×${m.height} ${f}`, m[f]);
  }
  return problems;
}

function fmt(v: number | null, digits = 2): string {
  return v === null ? '' : v >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

export function table(head: string[], body: string[][], right: (i: number) => boolean): string {
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right(i) ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ').trimEnd();
  return [line(head), line(width.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

/** The report for a terminal. */
export function formatReport(r: BenchReport): string {
  const a = r.adapter;
  const p = r.peak;
  const out: string[] = [];
  out.push(`musiq bench ${r.package.version} on ${r.runtime.name} ${r.runtime.version}${r.runtime.webgpu ? ` (${r.runtime.webgpu})` : ''}`);
  out.push(`adapter: ${a.description} [${a.vendor}/${a.architecture}${a.isFallback ? ', software fallback' : ''}]; subgroups ${a.subgroupMinSize ?? '?'}-${a.subgroupMaxSize ?? '?'}; features: ${a.features.join(', ') || 'none'}`);
  out.push(`shapes: ${r.options.width}×${r.options.height} (${r.options.tokens} tokens)${r.options.quick ? ', quick run' : ''}; timing: ${r.timing.method}; driver shader cache: ${r.timing.driverCache}`);
  out.push('');
  out.push(`roofline: peak ${fmt(p.fmaGflops)} GFLOP/s f32${p.fmaF16Gflops === null ? '' : `, ${fmt(p.fmaF16Gflops)} f16`}; bandwidth ${fmt(p.bandwidthGBps)} GB/s (${p.bandwidthBySize.map((b) => `${b.kind} ${fmtBytes(b.bytes)} ${fmt(b.gbps, 1)}`).join(', ')})`);
  out.push(`dispatch round trip ${fmt(p.dispatchMs, 3)} ms${p.dispatchGpuMs === null ? '' : ` (GPU ${fmt(p.dispatchGpuMs, 3)} ms)`}; upload ${fmt(p.uploadGBps)} GB/s, readback ${fmt(p.readbackGBps)} GB/s`);
  out.push('');
  const head = ['kernel', 'variant', 'shape', 'ms', 'p95', 'GFLOP/s', 'GB/s', 'roofline', 'bound', 'compile ms', 'chosen'];
  const body = r.kernels.map((k) => [
    k.kernel,
    k.variant,
    k.shape.join('×'),
    fmt(k.ms, 3),
    fmt(k.p95Ms, 3),
    fmt(k.gflops),
    fmt(k.gbps),
    `${(100 * k.roofline).toFixed(1)}%`,
    k.bound,
    k.compileMs === null ? '' : k.compileMs.toFixed(0),
    k.chosen ? '*' : '',
  ]);
  out.push(table(head, body, (i) => i >= 3 && i <= 7 || i === 9));
  out.push('');
  for (const v of r.verdicts) out.push(v.text);
  if (r.model.length) {
    out.push('');
    out.push(table(['model', 'tokens', 'cold ms', 'warm ms', 'images/s'], r.model.map((m) => [`${m.width}×${m.height}`, String(m.tokens), m.coldMs.toFixed(0), m.warmMs.toFixed(0), m.imagesPerSecond.toFixed(2)]), (i) => i > 0));
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(`note: ${n}`);
  }
  return out.join('\n');
}

function fmtBytes(b: number): string {
  return b >= 2 ** 20 ? `${+(b / 2 ** 20).toFixed(1)} MiB` : `${+(b / 1024).toFixed(0)} KiB`;
}
