// What `musiq convert` buys and costs, in one run: for each shared fixture checkpoint and the
// full-size synthetic checkpoint (real dims, seeded random weights), the f16 and int8 files'
// size, their score difference from the f32 original over every fixture image (absolute and
// relative to max(1, |score|)), load time and seconds per image. Loads and scores alternate
// between the three files (the machine is shared, so only in-run comparisons mean anything).
// Also the converter's own time and peak memory on the full-size file with optimizer state.
//   npm run bench:convert [-- --skip-full]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { createScorer, type Scorer } from '../src/index.node.ts';
import { npzChunks } from '../src/npz/writer.ts';
import { syntheticMembers, type SyntheticOptions } from '../tools/write-checkpoint.ts';
import { convertCheckpoint } from '../tools/convert.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures');
const skipFull = process.argv.includes('--skip-full');
const dir = mkdtempSync(join(tmpdir(), 'musiq-bench-convert-'));
const KINDS = ['f32', 'f16', 'int8'] as const;
type Kind = (typeof KINDS)[number];
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const images = readdirSync(join(fixtures, 'images')).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(fixtures, 'images', f))) }));

function writeSynthetic(path: string, opts: SyntheticOptions): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of npzChunks(syntheticMembers(opts))) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** The converter in a child process, so its peak RSS is its own. */
function convertMeasured(input: string, output: string, precision: 'f16' | 'int8'): { s: number; maxRssMb: number } {
  const code = `import { convertCheckpoint } from ${JSON.stringify(join(root, 'tools', 'convert.ts'))};
const t0 = performance.now();
await convertCheckpoint(${JSON.stringify(input)}, ${JSON.stringify(output)}, ${JSON.stringify(precision)}, { force: true });
console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const rt = await createNodeRuntime();
console.log(`adapter: ${rt.adapterName}; shader-f16: ${rt.features.has('shader-f16') ? 'yes' : 'no'}`);
const checkpoints: { name: string; path: string }[] = [
  { name: 'tiny_koniq_s0', path: join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz') },
  { name: 'tiny_ava_s0', path: join(fixtures, 'checkpoints', 'tiny_ava_s0.npz') },
];
if (!skipFull) {
  const full = join(dir, 'full_synthetic.npz');
  writeSynthetic(full, { config: 'full', numClasses: 1, seed: 0 });
  checkpoints.push({ name: 'full-size synthetic', path: full });
  // Peak memory of the converter on a full-size file with optimizer state (bf16 momentum), as real ones carry.
  const extras = join(dir, 'full_extras.npz');
  writeSynthetic(extras, { config: 'full', numClasses: 1000, seed: 1, extras: true });
  for (const p of ['f16', 'int8'] as const) {
    const r = convertMeasured(extras, join(dir, `extras_${p}.npz`), p);
    console.log(`converter, full-size imagenet-head file with optimizer state (${mb(statSync(extras).size)}) → ${p} (${mb(statSync(join(dir, `extras_${p}.npz`)).size)}): ${r.s.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB (child process)`);
  }
}

const rows: string[] = [];
try {
  for (const ck of checkpoints) {
    const files: Record<Kind, string> = { f32: ck.path, f16: join(dir, 'ck_f16.npz'), int8: join(dir, 'ck_int8.npz') };
    for (const p of ['f16', 'int8'] as const) await convertCheckpoint(ck.path, files[p], p, { force: true });
    // Loads alternate (f32 f16 int8, then int8 f16 f32); the second of each is reported (the
    // first may include Mesa compiling shaders). Every scorer stays loaded for the scoring.
    const loadS: Record<Kind, number[]> = { f32: [], f16: [], int8: [] };
    const scorers = {} as Record<Kind, Scorer>;
    for (const order of [KINDS, [...KINDS].reverse()]) {
      for (const k of order) {
        scorers[k]?.dispose();
        const t0 = performance.now();
        scorers[k] = await createScorer({ checkpoint: files[k], runtime: rt });
        loadS[k].push((performance.now() - t0) / 1000);
      }
    }
    // Warm-up, not timed: the first image of a runtime compiles its pipelines.
    for (const k of KINDS) await scorers[k].score(images[0].bytes, images[0].name);
    const perImage: Record<Kind, number[]> = { f32: [], f16: [], int8: [] };
    const worst = { f16: { abs: 0, rel: 0 }, int8: { abs: 0, rel: 0 } };
    for (const [i, img] of images.entries()) {
      const order = i % 2 ? [...KINDS].reverse() : KINDS;
      const score = {} as Record<Kind, number>;
      for (const k of order) {
        const t0 = performance.now();
        score[k] = (await scorers[k].score(img.bytes, img.name)).score;
        perImage[k].push((performance.now() - t0) / 1000);
      }
      for (const p of ['f16', 'int8'] as const) {
        const abs = Math.abs(score[p] - score.f32);
        worst[p].abs = Math.max(worst[p].abs, abs);
        worst[p].rel = Math.max(worst[p].rel, abs / Math.max(1, Math.abs(score.f32)));
      }
    }
    for (const k of KINDS) {
      const size = statSync(files[k]).size;
      const ratio = size / statSync(files.f32).size;
      const err = k === 'f32' ? '0 | 0' : `${worst[k].abs.toExponential(1)} | ${worst[k].rel.toExponential(1)}`;
      const s = perImage[k].reduce((a, b) => a + b, 0) / perImage[k].length;
      const gpu = scorers[k].precision.gpu;
      rows.push(`| ${ck.name} | ${k} (GPU ${gpu}) | ${mb(size)} (${ratio.toFixed(2)}×) | ${err} | ${loadS[k][1].toFixed(2)} s | ${s.toFixed(2)} s |`);
      console.log(rows[rows.length - 1]);
    }
    for (const k of KINDS) scorers[k].dispose();
  }
} finally {
  rt.destroy();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${images.length} fixture images per file; score error = max over images of |score − f32 score| (absolute | relative to max(1, |f32 score|))`);
console.log('| checkpoint | file (GPU storage) | size | max \\|Δscore\\| | max relative | load | s/image |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
