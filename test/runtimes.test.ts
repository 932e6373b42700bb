// The installed package in every JavaScript runtime the README's "Runtimes" table names, each
// scoring every shared fixture image against the independent implementation's scores:
// - Bun importing the package (Dawn addon, lavapipe) and `bun x --bun musiq score` (the bin under Bun);
// - Deno on its own WebGPU (wgpu, lavapipe) with --allow-read for the fixtures only and --deny-ffi,
//   which would stop the Dawn addon from loading; `deno check` of a TypeScript consumer;
// - a Chromium module Worker (SwiftShader) running an esbuild bundle of an app, and the same app
//   bundled by `bun build --target browser`.
// Node's own consumers (bin, .mjs, TypeScript, main-thread browser bundle) are in package.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Server } from 'node:http';
import { serve } from '../tools/serve.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { installPacked, root, run } from './consumer.ts';

const fixtures = join(root, 'test', 'fixtures');
const CKPT = join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz');
const expected = (JSON.parse(readFileSync(join(fixtures, 'expected', 'tiny_koniq_s0.json'), 'utf8')) as { results: { image: string; score: number }[] }).results;
const IMAGES = expected.map((r) => r.image); // 'images/x.png', relative to the fixtures folder
// Scores from an independent float32 PyTorch implementation; the fixture README measured f32-vs-f32
// differences below 1e-6, and every known mistake (erf GELU, rounding, hash) moves them by more.
// Also the bound for SwiftShader and wgpu, whose transcendentals and fma contraction differ from
// lavapipe's under Dawn by ~1e-6 relative on the logits.
const SCORE_TOL = 5e-5;

// The runtimes come from the dev dependencies `bun` and `deno` (their binaries ship in the npm packages).
const require = createRequire(import.meta.url);
const BUN = join(dirname(require.resolve('bun/package.json')), 'bin', 'bun.exe');
const DENO = join(dirname(require.resolve('deno/package.json')), 'bin.cjs');

let work = '';
let app = '';

test.before(async () => {
  ({ work, app } = await installPacked('musiq-runtimes-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

interface Scored {
  runtime?: string;
  adapter?: string;
  scores: { image: string; score: number }[];
}

/** Every fixture scored within SCORE_TOL; prints the worst difference. */
function checkScores(label: string, scores: { image: string; score: number }[]): void {
  assert.equal(scores.map((s) => s.image), IMAGES, `${label}: every fixture image, in order`);
  let worst = 0;
  for (const [i, { image, score }] of scores.entries()) {
    const diff = Math.abs(score - expected[i].score);
    worst = Math.max(worst, diff);
    assert.ok(diff <= SCORE_TOL, `${label}: ${image} scored ${score}, expected ${expected[i].score}`);
  }
  console.log(`  ${label}: ${scores.length} fixtures, largest difference ${worst.toExponential(1)}`);
}

// One consumer script for Bun and Deno: what each would write, with its own file API.
const SCORE_SCRIPT = `import { createScorer } from 'musiq-webgpu';
const deno = globalThis.Deno;
const args = deno ? deno.args : process.argv.slice(2);
const readFile = deno ? (p) => deno.readFile(p) : (await import('node:fs/promises')).readFile;
const [checkpoint, dir, ...images] = args;
const scorer = await createScorer({ checkpoint });
const scores = [];
for (const image of images) scores.push({ image, score: (await scorer.score(await readFile(dir + '/' + image), image)).score });
const runtime = deno ? 'deno ' + deno.version.deno : process.versions.bun ? 'bun ' + process.versions.bun : 'node ' + process.version;
console.log(JSON.stringify({ runtime, adapter: scorer.runtime.adapterName, scores }));
scorer.dispose();
`;

function lastJson(stdout: string): Scored {
  return JSON.parse(stdout.trim().split('\n').pop()!) as Scored;
}

test('Bun: import { createScorer } from the installed package scores every fixture', async () => {
  writeFileSync(join(app, 'score.js'), SCORE_SCRIPT);
  const r = await run(BUN, ['score.js', CKPT, fixtures, ...IMAGES], app);
  assert.is(r.code, 0, r.stderr);
  const out = lastJson(r.stdout);
  assert.match(out.runtime!, /^bun /);
  checkScores(`${out.runtime} on ${out.adapter}`, out.scores);
});

test('Bun: `bun x --bun musiq score` runs the bin under Bun and scores every fixture', async () => {
  // --bun: run the bin with Bun even though its shebang names node (plain `bun x` would use node).
  // Run in the app, whose node_modules/.bin has the bin (elsewhere bun x would fetch "musiq" from the registry).
  const r = await run(BUN, ['x', '--bun', 'musiq', 'score', '--json', '--checkpoint', CKPT, ...IMAGES.map((i) => join(fixtures, i))], app);
  assert.is(r.code, 0, r.stderr);
  // The CLI scores in its own order (sizes, for batching); rows name their files.
  const rows = JSON.parse(r.stdout) as { path: string; score: number }[];
  const byPath = new Map(rows.map((row) => [row.path, row.score]));
  checkScores('bun x --bun musiq score', IMAGES.map((image) => ({ image, score: byPath.get(join(fixtures, image)) ?? NaN })));
});

test('Deno: the `deno` export uses Deno\'s own WebGPU: --allow-read for the files only, FFI denied', async () => {
  writeFileSync(join(app, 'score.js'), SCORE_SCRIPT);
  // --deny-ffi: loading the Dawn addon (an N-API library) would fail; --no-prompt: a missing
  // permission fails instead of waiting for an answer.
  const args = ['run', '--no-prompt', '--deny-ffi', `--allow-read=${fixtures}`, 'score.js', CKPT, fixtures, ...IMAGES];
  const r = await run(process.execPath, [DENO, ...args], app);
  assert.is(r.code, 0, r.stderr);
  const out = lastJson(r.stdout);
  assert.match(out.runtime!, /^deno /);
  checkScores(`${out.runtime} on ${out.adapter}`, out.scores);
});

// Converted checkpoints (musiq convert) score in the other runtimes too: an f16 file, made by the
// installed bin, in Bun (Dawn: kept f16 on the GPU where shader-f16 exists) and in Deno (its own
// WebGPU: widened to f32 at upload where it lacks shader-f16). f16's tolerance is the one justified
// in test/musiq/convert-score.test.ts: 1e-3 × max(1, |score|).
test('Bun and Deno score an f16 file made by `musiq convert` within f16\'s tolerance', async () => {
  const f16 = join(work, 'tiny_koniq_s0_f16.npz');
  const c = await run(join(app, 'node_modules', '.bin', 'musiq'), ['convert', '--weights', 'f16', CKPT, f16], app);
  assert.is(c.code, 0, c.stderr);
  writeFileSync(join(app, 'score.js'), SCORE_SCRIPT);
  const runs = [
    [BUN, ['score.js', f16, fixtures, ...IMAGES]],
    [process.execPath, [DENO, 'run', '--no-prompt', '--deny-ffi', `--allow-read=${fixtures},${work}`, 'score.js', f16, fixtures, ...IMAGES]],
  ] as const;
  for (const [cmd, args] of runs) {
    const r = await run(cmd, [...args], app);
    assert.is(r.code, 0, r.stderr);
    const out = lastJson(r.stdout);
    let worst = 0;
    for (const [i, { image, score }] of out.scores.entries()) {
      const diff = Math.abs(score - expected[i].score) / Math.max(1, Math.abs(expected[i].score));
      worst = Math.max(worst, diff);
      assert.ok(diff <= 1e-3, `${out.runtime}: f16 ${image} scored ${score}, expected ${expected[i].score}`);
    }
    console.log(`  ${out.runtime} on ${out.adapter}, f16 file: ${out.scores.length} fixtures, worst relative difference ${worst.toExponential(1)}`);
  }
});

// Each `@ts-expect-error` fails the check if the declarations degrade to `any`.
const DENO_TS = `import { createScorer, createDenoRuntime, MusiqError, type ScoreResult } from 'musiq-webgpu';
const scorer = await createScorer({ checkpoint: 'koniq_ckpt.npz', runtime: await createDenoRuntime() });
const r: ScoreResult = await scorer.score(await Deno.readFile('photo.jpg'), 'photo.jpg');
const score: number = r.score;
const device: GPUDevice = scorer.runtime.device;
// @ts-expect-error score is a number
const s: string = r.score;
// @ts-expect-error the checkpoint is required
await createScorer({});
export { score, device, s, MusiqError };
`;

test('Deno: a TypeScript consumer type-checks (deno check) against the deno entry\'s declarations', async () => {
  writeFileSync(join(app, 'consumer.deno.ts'), DENO_TS);
  const r = await run(process.execPath, [DENO, 'check', 'consumer.deno.ts'], app);
  assert.is(r.code, 0, `${r.stdout}${r.stderr}`);
});

test('Deno: a checkpoint it may not read fails with a message naming the flag', async () => {
  const r = await run(process.execPath, [DENO, 'run', '--no-prompt', '--deny-ffi', 'score.js', CKPT, fixtures], app);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, `${CKPT}: Deno denied reading it: run with --allow-read`);
});

// The pattern the README documents: a module worker owns the scorer; the page transfers image bytes in.
const WORKER_APP = `import { createScorer } from 'musiq-webgpu';
let scorer;
self.onmessage = async ({ data }) => {
  try {
    if (data.checkpoint) {
      scorer = await createScorer({ checkpoint: data.checkpoint });
      self.postMessage({ ready: scorer.runtime.adapterName });
    } else {
      const r = await scorer.score(data.bytes, data.name);
      self.postMessage({ name: data.name, score: r.score });
    }
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
  }
};
`;

const PAGE = `<!doctype html><script type="module">
const q = new URLSearchParams(location.search);
const worker = new Worker(q.get('worker'), { type: 'module' });
const ask = (message, transfer = []) => new Promise((resolve) => {
  worker.onmessage = ({ data }) => resolve(data);
  worker.onerror = (e) => resolve({ error: e.message ?? 'worker error' });
  worker.postMessage(message, transfer);
});
const ready = await ask({ checkpoint: new URL(q.get('checkpoint'), location.href).href });
if (ready.error) { window.result = ready; } else {
  const scores = [];
  for (const image of q.get('images').split(',')) {
    const bytes = new Uint8Array(await (await fetch('/fixtures/' + image)).arrayBuffer());
    const r = await ask({ name: image, bytes }, [bytes.buffer]);
    if (r.error) { window.result = r; break; }
    scores.push({ image, score: r.score });
  }
  window.result ??= { adapter: ready.ready, scores };
}
</script>`;

test('Chromium: a module Worker of an esbuild bundle (and of a `bun build --target browser` bundle) scores every fixture', async () => {
  if (chromiumMissing) {
    console.log(`  SKIPPED worker consumer: ${chromiumMissing}`);
    return;
  }
  // The shipped browser build runs in workers, where there is no document or window.
  const shipped = readFileSync(join(app, 'node_modules', 'musiq-webgpu', 'dist', 'browser', 'index.js'), 'utf8');
  assert.not.match(shipped, /\b(document|window)\.[A-Za-z_$]/, 'the browser build touches document or window');
  const www = join(app, 'www');
  mkdirSync(www);
  writeFileSync(join(app, 'worker.js'), WORKER_APP);
  writeFileSync(join(www, 'index.html'), PAGE);
  const { build } = await import('esbuild');
  await build({ absWorkingDir: app, entryPoints: ['worker.js'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(www, 'worker.esbuild.js'), logLevel: 'error' });
  const bun = await run(BUN, ['build', '--target', 'browser', '--format', 'esm', 'worker.js', '--outfile', join(www, 'worker.bun.js')], app);
  assert.is(bun.code, 0, bun.stderr);
  for (const file of ['worker.esbuild.js', 'worker.bun.js']) {
    const bundle = readFileSync(join(www, file), 'utf8');
    assert.not.match(bundle, /from ['"](node:|webgpu['"])/, `${file}: no Node built-ins and no Dawn addon`);
  }

  const server: Server = await serve(0, { '/app/': www, '/fixtures/': fixtures });
  const port = (server.address() as { port: number }).port;
  const browser = await launchChromium();
  try {
    for (const [label, file] of [['esbuild bundle', 'worker.esbuild.js'], ['bun build bundle', 'worker.bun.js']]) {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('pageerror', (e) => logs.push(e.message));
      page.on('console', (m) => logs.push(m.text()));
      await page.goto(`http://127.0.0.1:${port}/app/index.html?worker=${file}&checkpoint=/fixtures/checkpoints/tiny_koniq_s0.npz&images=${IMAGES.join(',')}`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 300_000 });
      const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as Scored & { error?: string };
      assert.is(result.error, undefined, `${label}: ${result.error}\n${logs.join('\n')}`);
      checkScores(`Chromium module Worker, ${label}, on ${result.adapter}`, result.scores);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
