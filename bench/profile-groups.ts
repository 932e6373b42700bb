// GPU timestamps of one image's dispatches summed per kernel group, with the group's GFLOP/s
// where the dispatch labels carry the shape (matmul M×K×N, attention Q×T×H×Dh, conv2d …px).
// Matmul is also split by K×N, because the four MUSIQ shapes reach different speeds.
import type { KernelTiming } from '../src/runtime/timing.ts';

export interface GroupTime {
  group: string;
  ms: number;
  dispatches: number;
  /** Summed flop of the group's dispatches, or null if any label does not say. */
  flop: number | null;
}

/** The multiply-adds (×2) a dispatch performs, read from the label its kernel's launcher writes. */
export function labelFlop(label: string): number | null {
  // A part of a K split over dispatches (matmul.ts) says its own K, then the whole one.
  let m = /^matmul_\w+ (\d+)×(\d+)×(\d+)(?: of K \d+)?$/.exec(label);
  if (m) return 2 * +m[1] * +m[2] * +m[3];
  // q·k and p·v: 2 multiply-adds per (query, key, head, dim); the softmax is not counted.
  m = /^attention\/\w+ (\d+)×(\d+)×(\d+)×(\d+)$/.exec(label); // queries × keys × heads × head dim
  if (m) return 4 * +m[1] * +m[2] * +m[3] * +m[4];
  m = /^conv2d (\d+)x(\d+)\/\d+ (\d+)→(\d+) (\d+)px$/.exec(label);
  if (m) return 2 * +m[1] * +m[2] * +m[3] * +m[4] * +m[5];
  return null;
}

/** Kernel name without its shape: "matmul_subgroup 960×384×1152" → "matmul_subgroup". */
function groupOf(label: string): string {
  return label.split(' ')[0];
}

/** Groups by kernel, plus one "matmul K×N" row per matmul shape; slowest first. */
export function groupTimings(timings: readonly KernelTiming[]): GroupTime[] {
  const groups = new Map<string, GroupTime>();
  const add = (group: string, t: KernelTiming) => {
    const g = groups.get(group) ?? { group, ms: 0, dispatches: 0, flop: 0 };
    const f = labelFlop(t.label);
    g.ms += t.ms;
    g.dispatches++;
    g.flop = g.flop === null || f === null ? null : g.flop + f;
    groups.set(group, g);
  };
  for (const t of timings) {
    add(groupOf(t.label), t);
    const mm = /^matmul_\w+ \d+×(\d+)×(\d+)(?: of K (\d+))?$/.exec(t.label);
    if (mm) add(`  matmul K×N ${mm[3] ?? mm[1]}×${mm[2]}`, t);
  }
  // Groups by time; the per-shape rows (all matmul variants together) under the slowest matmul.
  const top = [...groups.values()].filter((g) => !g.group.startsWith(' ')).sort((a, b) => b.ms - a.ms);
  const sub = [...groups.values()].filter((g) => g.group.startsWith(' ')).sort((a, b) => b.ms - a.ms);
  const firstMatmul = top.find((g) => g.group.startsWith('matmul'));
  return top.flatMap((g) => (g === firstMatmul ? [g, ...sub] : [g]));
}

export function formatGroups(rows: readonly GroupTime[]): string[] {
  const total = rows.filter((r) => !r.group.startsWith(' ')).reduce((a, r) => a + r.ms, 0);
  return rows.map((r) => {
    const rate = r.flop === null || r.ms === 0 ? '' : `${(r.flop / r.ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`;
    return `  ${r.group.padEnd(28)} ${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%  ${String(r.dispatches).padStart(4)} dispatches  ${rate}`;
  });
}
