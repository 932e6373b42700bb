// One runtime's side of bench/deno-vs-node.ts: run by `node`, `bun` or `deno run`, it loads the built
// package entry that runtime gets (dist/node: Dawn; dist/deno: Deno's own WebGPU), scores the
// same synthetic image twice with the given checkpoint, and prints one JSON line.
//   node --import tsx bench/runtime-child.ts <checkpoint.npz> <W>x<H> [--profile]   (after `npm run build`)
import { syntheticImage } from '../src/bench/synthetic-image.ts';
import { groupTimings, type GroupTime } from './profile-groups.ts';
import type { Runtime, Scorer, CreateScorerOptions } from '../src/index.ts';

interface Entry {
  createScorer(o: CreateScorerOptions): Promise<Scorer>;
  createNodeRuntime?(o: { profile?: boolean }): Promise<Runtime>;
  createDenoRuntime?(o: { profile?: boolean }): Promise<Runtime>;
}

// `process` is a global in Deno 2 and Bun as in Node (cpuUsage() needs no Deno permission).
const deno = (globalThis as { Deno?: { args: string[]; version: { deno: string } } }).Deno;
const args = deno ? deno.args : process.argv.slice(2);
const [checkpoint, size] = args;
const profile = args.includes('--profile');
const [w, h] = size.split('x').map(Number);

const entry = (await import(deno ? '../dist/deno/index.js' : '../dist/node/index.js')) as Entry;
const rt = await (deno ? entry.createDenoRuntime! : entry.createNodeRuntime!)({ profile });
const t0 = performance.now();
const scorer = await entry.createScorer({ checkpoint, runtime: rt });
const loadMs = performance.now() - t0;
const img = syntheticImage(w, h);
const first = await scorer.score(img);
// CPU time of the whole process (every thread: on a CPU adapter the driver's threads do the GPU
// work) over the second image: unlike wall time, it barely moves with other load on the machine.
const cpu0 = process.cpuUsage();
const second = await scorer.score(img);
const cpu = process.cpuUsage(cpu0);
let groups: GroupTime[] = [];
if (rt.profiling) {
  await rt.timings(); // the timed runs' timestamps
  await scorer.score(img);
  groups = groupTimings(await rt.timings());
}
console.log(
  JSON.stringify({
    runtime: deno ? `deno ${deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`,
    adapter: rt.adapterName,
    features: [...rt.features],
    loadMs,
    firstMs: first.timings.total,
    secondMs: second.timings.total,
    secondCpuMs: (cpu.user + cpu.system) / 1000,
    score: second.score,
    groups,
  }),
);
scorer.dispose();
rt.destroy();
