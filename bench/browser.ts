// Seconds per 1024×768 image in headless Chromium (Debian's build: WebGPU on SwiftShader), with a
// full-size synthetic checkpoint (real dims, random weights: same cost as a real checkpoint's).
// One scorer scores the first image (pipelines compiled on first use, buffers allocated) and then
// a second, different image (pipelines compiled, buffers pooled): the number the issue
// "SwiftShader in Chromium: the second 1024×768 image in under 40 s" is judged by.
// `npm run bench:browser [-- --json] [-- --size 1024x768] [-- --profile] [-- --mbps 20] [-- --bytes] [-- --idle 10] [-- --rounds 3]`;
// exits 2 when Chromium is missing. --rounds N: N rounds, each in a new Chromium (a new GPU
// process compiles every kernel again), and the medians of the first and second image.
// --profile: GPU time per kernel group of the second image (timestamp queries). --mbps N: the checkpoint arrives at N MB/s, as from a web server, instead of at once
// from localhost (SwiftShader compiles the attention kernel during the download: compile-ahead.ts).
// --bytes: the page fetches the checkpoint first (not timed) and passes the bytes, as the demo does.
// --idle S: S seconds pass between the load and the first image, as when a user picks one.
// --engine E[,E...]: the scorer's engine (auto, the default: the CPU on SwiftShader; gpu; cpu);
// with several, each round runs each in turn, each in a new Chromium, and the medians of the
// first image are compared ("--engine gpu,cpu --rounds 3": the CPU engine's speed-up, one run).
// The page is bundled here with esbuild (the WGSL kernels inlined as in tools/build.ts), served
// with tools/serve.ts from a temporary folder together with the checkpoint, and removed after.
import { build } from 'esbuild';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium } from '../test/chromium.ts';
import { serve } from '../tools/serve.ts';
import { kernelsPlugin } from '../tools/build.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { median } from '../src/bench/timing.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const profile = args.includes('--profile');
const mbps = args.includes('--mbps') ? Number(args[args.indexOf('--mbps') + 1]) : undefined;
const bytes = args.includes('--bytes');
const idle = args.includes('--idle') ? Number(args[args.indexOf('--idle') + 1]) : undefined;
const roundCount = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 1;
if (!Number.isInteger(roundCount) || roundCount < 1) {
  console.error(`bench:browser: --rounds takes a whole number of at least 1, got ${args[args.indexOf('--rounds') + 1]}`);
  process.exit(2);
}
const engines = (args.includes('--engine') ? args[args.indexOf('--engine') + 1] : 'auto').split(',');
if (!engines.every((e) => ['auto', 'gpu', 'cpu'].includes(e))) {
  console.error(`bench:browser: --engine takes auto, gpu or cpu (or a comma list), got ${args[args.indexOf('--engine') + 1]}`);
  process.exit(2);
}
const [width, height] = (args.includes('--size') ? args[args.indexOf('--size') + 1] : '1024x768').split('x').map(Number);
const log = (s: string) => (json ? console.error(s) : console.log(s));
const TIMEOUT_MS = 1_500_000; // load + two images; the first image alone may take minutes on SwiftShader

if (chromiumMissing) {
  console.error(`bench:browser: ${chromiumMissing}`);
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));

interface ImageRow {
  image: string;
  seconds: number;
  tokens: number;
  score: number;
  timings: { decode: number; preprocess: number; stem: number; encoder: number; total: number };
}
interface BenchResult {
  adapter?: string;
  /** The engine asked for, and the one the scorer chose. */
  asked?: string;
  engine?: string;
  loadSeconds?: number;
  images?: ImageRow[];
  error?: string;
}

// Runs in the page. The synthetic image is bench/model.ts's (src/bench/synthetic-image.ts), made in the page so
// no 2.4 MB of pixels travel; seeds 7 and 8 make the first and second image differ.
const entry = `
import { createBrowserRuntime, createScorer } from './src/index.browser.ts';
import { syntheticImage } from './src/bench/synthetic-image.ts';
import { formatGroups, groupTimings } from './bench/profile-groups.ts';

async function main() {
  const q = new URLSearchParams(location.search);
  const width = Number(q.get('width')), height = Number(q.get('height'));
  const out = {};
  try {
    const runtime = await createBrowserRuntime({ profile: q.has('profile') });
    out.adapter = runtime.adapterName;
    console.log('adapter: ' + out.adapter);
    // --bytes: the checkpoint is fetched first and handed over as bytes, as an app that keeps it in
    // Cache Storage or IndexedDB (the demo) does; nothing then compiles during a download.
    const checkpoint = q.has('bytes') ? new Uint8Array(await (await fetch(q.get('checkpoint'))).arrayBuffer()) : q.get('checkpoint');
    const t0 = performance.now();
    out.asked = q.get('engine');
    const scorer = await createScorer({ checkpoint, runtime, engine: out.asked });
    out.engine = scorer.engine;
    out.loadSeconds = (performance.now() - t0) / 1000;
    console.log('checkpoint fetched, tuned and uploaded in ' + out.loadSeconds.toFixed(1) + ' s');
    out.images = [];
    // --idle S: the page waits S seconds before its first image, as a user picking one would.
    if (q.has('idle')) await new Promise((r) => setTimeout(r, 1000 * Number(q.get('idle'))));
    for (const [name, seed] of [['first', 7], ['second', 8]]) {
      const img = syntheticImage(width, height, seed);
      if (runtime.profiling) await runtime.timings(); // only the second image's dispatches are kept
      const t = performance.now();
      const r = await scorer.score(img, name);
      const seconds = (performance.now() - t) / 1000;
      out.images.push({ image: name, seconds, tokens: r.tokens, score: r.score, timings: r.timings });
      console.log(name + ' image scored in ' + seconds.toFixed(1) + ' s');
    }
    if (runtime.profiling) for (const line of formatGroups(groupTimings(await runtime.timings()))) console.log(line);
    else if (q.has('profile')) console.log('this adapter has no timestamp-query: no profile');
    scorer.dispose();
    runtime.destroy();
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  window.__bench = out;
}
main();
`;

const tmp = mkdtempSync(join(tmpdir(), 'musiq-bench-browser-'));
let server: Server | undefined;
const results: BenchResult[] = [];
let failed: string | undefined;
try {
  await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'bench-browser-page.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    logLevel: 'warning',
    outfile: join(tmp, 'bench.js'),
    plugins: [kernelsPlugin],
  });
  writeFileSync(join(tmp, 'index.html'), '<!doctype html><meta charset="utf-8"><title>musiq bench</title><link rel="icon" href="data:,"><script type="module" src="bench.js"></script>\n');
  const t0 = performance.now();
  writeFileSync(join(tmp, 'full.npz'), writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 }));
  log(`full-size synthetic checkpoint written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  server = await serve(0, { '/bench/': tmp }, { bytesPerSecond: mbps && mbps * 1e6 });
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  for (let round = 1; round <= roundCount; round++) {
    if (roundCount > 1) log(`round ${round} of ${roundCount} (a new Chromium):`);
    for (const engine of engines) {
      const result = await runPage(base, engine);
      if (result.error) {
        failed = result.error;
        break;
      }
      results.push(result);
      report(result);
    }
    if (failed) break;
  }
} finally {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  rmSync(tmp, { recursive: true, force: true });
}

if (failed) {
  console.error(`bench:browser: the page failed: ${failed}`);
  process.exit(1);
}
const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');
const firstMedians: number[] = [];
for (const engine of engines) {
  const mine = results.filter((r) => r.asked === engine);
  const seconds = (i: number) => mine.map((r) => r.images?.[i]?.seconds ?? NaN);
  const [first, second] = [seconds(0), seconds(1)];
  firstMedians.push(median(first));
  if (roundCount === 1 && engines.length === 1) break;
  const ratios = first.map((f, i) => f / second[i]);
  log(`engine ${engine} (${[...new Set(mine.map((r) => r.engine))].join('/')}) over ${mine.length} rounds: first image ${list(first, 2)} s, median ${median(first).toFixed(2)} s; second ${list(second, 2)} s, median ${median(second).toFixed(2)} s; first/second ${list(ratios, 2)}, median ${median(ratios).toFixed(2)}x`);
}
for (let i = 1; i < engines.length && firstMedians.length === engines.length; i++) {
  log(`first image, engine ${engines[i]} / engine ${engines[0]}: ${(firstMedians[i] / firstMedians[0]).toFixed(2)}x (medians, same rounds)`);
}
if (json) console.log(JSON.stringify(results.flatMap((r, i) => rowsOf(r, i + 1))));

/** One load and two images in a new Chromium. */
async function runPage(base: string, engine: string): Promise<BenchResult> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.error(`  [page] ${m.text()}`));
    page.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
    await page.goto(`${base}/bench/index.html?checkpoint=/bench/full.npz&width=${width}&height=${height}${profile ? '&profile' : ''}${bytes ? '&bytes' : ''}${idle ? `&idle=${idle}` : ''}&engine=${engine}`);
    await page.waitForFunction(() => (globalThis as unknown as { __bench?: unknown }).__bench !== undefined, undefined, { timeout: TIMEOUT_MS, polling: 1000 });
    return await page.evaluate(() => (globalThis as unknown as { __bench: BenchResult }).__bench);
  } finally {
    await browser.close();
  }
}

function rowsOf(result: BenchResult, round: number) {
  return (result.images ?? []).map((r) => {
    const t = r.timings;
    return { round, size: `${width}x${height}`, image: r.image, seconds: r.seconds, score: r.score, tokens: r.tokens, decode: t.decode / 1000, preprocess: t.preprocess / 1000, stem: t.stem / 1000, encoder: t.encoder / 1000, total: t.total / 1000, adapter: result.adapter, engine: result.engine, loadSeconds: result.loadSeconds, checkpoint: bytes ? 'bytes' : 'url', mbps: mbps ?? null, idleSeconds: idle ?? 0 };
  });
}

function report(result: BenchResult): void {
  log(`adapter: ${result.adapter}; engine ${result.engine}${result.asked === result.engine ? '' : ` (asked: ${result.asked})`}; checkpoint ${bytes ? 'given as bytes' : 'fetched'}${mbps ? ` at ${mbps} MB/s` : ''}, tuned and uploaded in ${result.loadSeconds?.toFixed(1)} s${idle ? `; ${idle} s idle before the first image` : ''}`);
  const images = result.images ?? [];
  for (const r of images) {
    const t = r.timings;
    log(`${width}x${height} ${r.image} image: ${r.seconds.toFixed(2)} s, score ${r.score.toPrecision(7)} (${r.tokens} tokens; decode ${t.decode.toFixed(0)} ms [pixels given], preprocess ${t.preprocess.toFixed(0)} ms, stem+embedding ${(t.stem / 1000).toFixed(2)} s, encoder+head ${(t.encoder / 1000).toFixed(2)} s)`);
  }
  if (images.length === 2 && result.loadSeconds !== undefined) {
    log(`first/second image: ${(images[0].seconds / images[1].seconds).toFixed(2)}x; checkpoint load + first image: ${(result.loadSeconds + images[0].seconds).toFixed(1)} s`);
  }
}
