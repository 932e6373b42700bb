// Deno on its own WebGPU (wgpu, no subgroups) against Node on Dawn, same machine, same driver,
// same full-size synthetic checkpoint, in one run: the two alternate (N D, D N, N D, ...) so a
// load that comes and goes on a shared machine hits both. Each run is a fresh process that scores
// a W×H image twice (bench/runtime-child.ts); the second image is the steady state. Besides wall
// time, the CPU time of each process over the second image (all threads: on lavapipe the GPU
// work is CPU work) is compared: on a machine shared with other work it is the steadier ratio.
//   npm run bench:deno [-- --reps 3] [-- --size 1024x768] [-- --profile] [-- --bun]
// --bun: Bun (the Dawn addon, like Node) takes a turn too, and its ratio to Node is printed.
// --profile: one more, GPU-timestamped image per process, printed per kernel group for both
// runtimes side by side (timestamps add a little to every dispatch, so timed numbers rise too).
// Builds dist/ first: each runtime loads the entry a user gets (dist/node, dist/deno).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAll } from '../tools/build.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import type { GroupTime } from './profile-groups.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const reps = Number(opt('--reps', '3'));
const size = opt('--size', '1024x768');
const profile = args.includes('--profile');
const root = fileURLToPath(new URL('..', import.meta.url));
const child = join(root, 'bench', 'runtime-child.ts');
const require = createRequire(import.meta.url);
const deno = join(dirname(require.resolve('deno/package.json')), 'bin.cjs');
const bun = join(dirname(require.resolve('bun/package.json')), 'bin', 'bun.exe');
const withBun = args.includes('--bun');
type Which = 'node' | 'deno' | 'bun';

interface Result {
  runtime: string;
  adapter: string;
  features: string[];
  loadMs: number;
  firstMs: number;
  secondMs: number;
  secondCpuMs: number;
  score: number;
  groups: GroupTime[];
}

await buildAll();
const work = mkdtempSync(join(tmpdir(), 'musiq-deno-vs-node-'));
const ckpt = join(work, 'full.npz');
writeFileSync(ckpt, writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 }));
const childArgs = [ckpt, size, ...(profile ? ['--profile'] : [])];
const commands = {
  node: [process.execPath, ['--import', 'tsx', child, ...childArgs]],
  // What a Deno user needs: read access to the checkpoint (and here the dynamically imported
  // dist/); FFI denied so Dawn cannot load.
  deno: [process.execPath, [deno, 'run', '--no-prompt', '--deny-ffi', `--allow-read=${ckpt},${join(root, 'dist')}`, child, ...childArgs]],
  bun: [bun, [child, ...childArgs]],
} as const;

function runOnce(which: Which): Result {
  const [cmd, argv] = commands[which];
  const out = execFileSync(cmd, argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => (ms / 1000).toFixed(2);
const results: Record<Which, Result[]> = { node: [], deno: [], bun: [] };
try {
  for (let i = 0; i < reps; i++) {
    const order: Which[] = withBun ? ['node', 'deno', 'bun'] : ['node', 'deno'];
    for (const which of i % 2 === 0 ? order : order.reverse()) {
      const r = runOnce(which);
      results[which].push(r);
      console.log(`${which} run ${i + 1}: ${size} first ${s(r.firstMs)} s, second ${s(r.secondMs)} s, ${s(r.secondCpuMs)} CPU s (load ${s(r.loadMs)} s; ${r.adapter}; ${r.features.join(', ') || 'no features'}; score ${r.score.toFixed(6)})`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const [n, d] = [results.node, results.deno];
const scoreDiff = Math.max(...d.map((r, i) => Math.abs(r.score - n[i].score)));
console.log(`\n${n[0].runtime} / ${d[0].runtime}, ${reps} alternating runs each, ${size}, full-size synthetic checkpoint (scores agree within ${scoreDiff.toExponential(1)}):`);
const labels = { secondMs: 'second image', secondCpuMs: 'second image, CPU time of all threads', firstMs: 'first image' };
for (const key of ['secondMs', 'secondCpuMs', 'firstMs'] as const) {
  const [nm, dm] = [median(n.map((r) => r[key])), median(d.map((r) => r[key]))];
  console.log(`  ${labels[key]}: node ${s(nm)} s, deno ${s(dm)} s median → Deno/Node ${(dm / nm).toFixed(2)}x (per pair: ${d.map((r, i) => (r[key] / n[i][key]).toFixed(2)).join(', ')})`);
}
if (withBun) {
  const b = results.bun;
  const [nm, bm] = [median(n.map((r) => r.secondMs)), median(b.map((r) => r.secondMs))];
  const [nc, bc] = [median(n.map((r) => r.secondCpuMs)), median(b.map((r) => r.secondCpuMs))];
  console.log(`  ${b[0].runtime}, second image: ${s(bm)} s median → Bun/Node ${(bm / nm).toFixed(2)}x; CPU ${s(bc)} s → ${(bc / nc).toFixed(2)}x (scores within ${Math.max(...b.map((r, i) => Math.abs(r.score - n[i].score))).toExponential(1)} of Node's)`);
}
if (profile) {
  console.log('\nGPU time per kernel group, last run of each (ms; Deno/Node):');
  const [ng, dg] = [n.at(-1)!.groups, d.at(-1)!.groups];
  const ms = (gs: GroupTime[], name: string) => gs.find((g) => g.group === name)?.ms;
  console.log(`  ${'node group'.padEnd(26)} ${'ms'.padStart(8)}   ${'deno group'.padEnd(26)} ${'ms'.padStart(8)}`);
  const rows = Math.max(ng.length, dg.length);
  const top = (gs: GroupTime[]) => gs.filter((g) => !g.group.startsWith(' '));
  for (let i = 0; i < rows; i++) {
    const a = top(ng)[i], b = top(dg)[i];
    if (!a && !b) break;
    console.log(`  ${(a?.group ?? '').padEnd(26)} ${a ? a.ms.toFixed(1).padStart(8) : ''.padStart(8)}   ${(b?.group ?? '').padEnd(26)} ${b ? b.ms.toFixed(1).padStart(8) : ''.padStart(8)}${b && ms(ng, b.group) ? `  (${(b.ms / ms(ng, b.group)!).toFixed(2)}x)` : ''}`);
  }
  const total = (gs: GroupTime[]) => top(gs).reduce((a, g) => a + g.ms, 0);
  console.log(`  ${'total'.padEnd(26)} ${total(ng).toFixed(1).padStart(8)}   ${'total'.padEnd(26)} ${total(dg).toFixed(1).padStart(8)}  (${(total(dg) / total(ng)).toFixed(2)}x)`);
}
