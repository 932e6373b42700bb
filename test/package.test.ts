// The package as a user gets it: `npm pack`, then `npm install <tarball> --omit=dev` into an empty
// project outside the repository (from npm's cache: `npm ci` put every runtime dependency there),
// and from that project the bin, a plain .mjs import, a TypeScript type-check against the shipped
// declarations, and an esbuild browser bundle in headless Chromium.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serve } from '../tools/serve.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { checkReport } from '../src/bench/report.ts';
import { installPacked, root, run, type Packed } from './consumer.ts';
import { parseReport } from '../src/bench/compare.ts';

const fixtures = join(root, 'test', 'fixtures');
const CKPT = join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz');
const IMAGE = 'small_64x64.png';
const expected = (JSON.parse(readFileSync(join(fixtures, 'expected', 'tiny_koniq_s0.json'), 'utf8')) as { results: { image: string; score: number }[] }).results.find(
  (r) => r.image.endsWith(IMAGE),
)!.score;

// Scores from an independent float32 PyTorch implementation; the fixture README measured f32-vs-f32
// differences below 1e-6, and every known mistake (erf GELU, rounding, hash) moves them by more.
const SCORE_TOL = 5e-5;
// SwiftShader vs lavapipe, same kernels: transcendental precision and fma contraction differ,
// ~1e-6 relative on the logits (see test/browser.test.ts).
const BROWSER_TOL = 1e-5;
const MAX_PACKED = 1024 * 1024;

let work = '';
let app = '';
let packed: Packed;
let nodeScore = NaN;

test.before(async () => {
  ({ work, app, packed } = await installPacked('musiq-consumer-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

test('tarball: small, only what runs, no tests, fixtures or CI files', () => {
  const paths = packed.files.map((f) => f.path);
  // The six official photos that `musiq validate` scores are lossless PNGs (2.4 MB that no
  // compression shrinks); everything else, the engine itself, must stay under 1 MB packed.
  const photos = packed.files.filter((f) => f.path.startsWith('dist/assets/official/') && f.path.endsWith('.png'));
  const photoBytes = photos.reduce((a, f) => a + f.size, 0);
  const engine = packed.size - photoBytes; // PNG data does not deflate: its packed size is its size, within a few KiB
  console.log(`\n  tarball ${(packed.size / 1024).toFixed(0)} KiB packed, ${packed.entryCount} files; without the ${photos.length} validation photos ${(engine / 1024).toFixed(0)} KiB`);
  assert.equal(photos.map((f) => f.path.split('/').pop()).sort(), ['I03.png', 'I04.png', 'I06.png', 'I08.png', 'I19.png', 'image9.png']);
  assert.ok(engine < MAX_PACKED, `${engine} bytes packed without the photos`);
  const stray = paths.filter((p) => /^(test|bench|tools|web|src|\.ci)\/|fixtures|tsconfig|\.tgz$/.test(p));
  assert.equal(stray, [], 'files that are not the product');
  for (const p of ['package.json', 'README.md', 'dist/node/index.js', 'dist/node/cli.js', 'dist/browser/index.js', 'dist/types/index.node.d.ts', 'dist/types/index.browser.d.ts', 'dist/kernels/matmul_tiled.wgsl']) {
    assert.ok(paths.includes(p), `${p} is missing`);
  }
});

test('the install tree has no dev tools (tsx, typescript, esbuild) and no dev references', () => {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      if (/^(tsx|typescript|esbuild|@esbuild|pngjs|jpeg-js|uvu|playwright-core)$/.test(name)) found.push(path);
      walk(path);
    }
  };
  walk(join(app, 'node_modules'));
  assert.equal(found, []);
});

test('the installed bin prints the version it was packed with', async () => {
  const r = await run(join(app, 'node_modules', '.bin', 'musiq'), ['--version'], app);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
});

test('the bin scores a fixture like the independent implementation', async () => {
  const r = await run(join(app, 'node_modules', '.bin', 'musiq'), ['score', '--json', '--checkpoint', CKPT, join(fixtures, 'images', IMAGE)], app);
  assert.is(r.code, 0, r.stderr);
  const score = (JSON.parse(r.stdout) as { score: number }[])[0].score;
  console.log(`  installed bin: ${score} (expected ${expected}, diff ${Math.abs(score - expected).toExponential(1)})`);
  assert.ok(Math.abs(score - expected) <= SCORE_TOL, `${score} vs ${expected}`);
});

test('musiq validate runs from the install (its photos ship) and fails a synthetic checkpoint', async () => {
  const r = await run(join(app, 'node_modules', '.bin', 'musiq'), ['validate', '--checkpoint', CKPT], app);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, '5 of 5 scores differ from the published koniq values');
});

test('musiq convert runs from the install; the installed bin scores and inspects what it wrote', async () => {
  const bin = join(app, 'node_modules', '.bin', 'musiq');
  const out = join(work, 'tiny_int8.npz');
  const c = await run(bin, ['convert', '--weights', 'int8', CKPT, out], app);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /tiny_int8\.npz: int8, .* \(0\.2\d+x of/);
  const inspect = await run(bin, ['inspect', '--json', out], app);
  assert.is(inspect.code, 0, inspect.stderr);
  assert.is(JSON.parse(inspect.stdout).precision, 'int8');
  const r = await run(bin, ['score', '--json', '--checkpoint', out, join(fixtures, 'images', IMAGE)], app);
  assert.is(r.code, 0, r.stderr);
  const score = (JSON.parse(r.stdout) as { score: number }[])[0].score;
  // int8's tolerance, as justified in test/musiq/convert-score.test.ts.
  assert.ok(Math.abs(score - expected) <= 3e-2 * Math.max(1, Math.abs(expected)), `${score} vs ${expected}`);
  const again = await run(bin, ['convert', '--weights', 'f16', out, join(work, 'twice.npz')], app);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already converted \(int8, from /);
});

// The benchmark ships: from the install, with no dev tool, at one small size (154 tokens) so the
// whole quick run (roofline, every group, the model end to end) stays CI-sized (~45 s on lavapipe).
test('musiq bench --quick --json runs from the install: schema and sanity rules hold', async () => {
  const r = await run(join(app, 'node_modules', '.bin', 'musiq'), ['bench', '--quick', '--json', '--size', '64x48'], app);
  assert.is(r.code, 0, r.stderr);
  const report = parseReport('stdout', r.stdout);
  assert.equal(checkReport(report), []);
  assert.is(report.package.version, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const groups = new Set(report.kernels.map((k) => k.group));
  for (const g of ['matmul', 'attention', 'layernorm', 'gelu', 'softmax', 'conv2d', 'groupnorm', 'maxpool', 'embed']) assert.ok(groups.has(g), `group ${g} missing`);
  assert.equal(report.model.map((m) => [m.width, m.height, m.tokens]), [[64, 48, 154]]);
  console.log(`  installed bench: ${report.adapter.description}, peak ${report.peak.fmaGflops.toFixed(1)} GFLOP/s, ${report.peak.bandwidthGBps.toFixed(1)} GB/s, ${report.kernels.length} rows`);
});

test('a plain .mjs consumer scores through import { createScorer }', async () => {
  writeFileSync(
    join(app, 'score.mjs'),
    `import { readFileSync } from 'node:fs';
import { createScorer, MusiqError } from 'musiq-webgpu';
const scorer = await createScorer({ checkpoint: process.argv[2] });
const r = await scorer.score(readFileSync(process.argv[3]), process.argv[3]);
let rejected = false;
try { await scorer.score(new Uint8Array([1, 2, 3]), 'junk.png'); } catch (e) { rejected = e instanceof MusiqError; }
scorer.dispose();
console.log(JSON.stringify({ score: r.score, tokens: r.tokens, embedding: r.embedding.length, rejected }));
`,
  );
  const r = await run(process.execPath, ['score.mjs', CKPT, join(fixtures, 'images', IMAGE)], app);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { score: number; tokens: number; embedding: number; rejected: boolean };
  nodeScore = out.score;
  console.log(`  .mjs consumer: ${out.score}`);
  assert.ok(Math.abs(out.score - expected) <= SCORE_TOL, `${out.score} vs ${expected}`);
  assert.is(out.embedding, 64, 'tiny checkpoint: hidden 64');
  assert.ok(out.rejected, 'bad bytes reject with the exported MusiqError class');
});

// Each `@ts-expect-error` fails the check if the declarations degrade (a field typed `any`, a
// missing export), so this is not satisfied by any declarations at all.
const TS_CONSUMER = `import { createScorer, MusiqError, type CreateScorerOptions, type Scorer, type ScoreResult, type Runtime } from 'musiq-webgpu';
const options: CreateScorerOptions = { checkpoint: 'koniq_ckpt.npz', onProgress: ({ done, total }) => void (done / total) };
const scorer: Scorer = await createScorer(options);
const r: ScoreResult = await scorer.score(new Uint8Array(0), 'x.png', { attention: true });
const score: number = r.score;
const embedding: Float32Array = r.embedding;
const ms: number = r.timings.total;
const rt: Runtime = scorer.runtime;
const device: GPUDevice = rt.device;
const err: Error = new MusiqError('x');
// @ts-expect-error score is a number
const s: string = r.score;
// @ts-expect-error the checkpoint is required
await createScorer({});
// @ts-expect-error no such option
await scorer.score(new Uint8Array(0), 'x', { bogus: true });
export { score, embedding, ms, device, err, s };
`;

test('a TypeScript consumer type-checks against the shipped declarations (Node and bundler resolution)', async () => {
  mkdirSync(join(app, 'ts'));
  writeFileSync(join(app, 'ts', 'consumer.ts'), TS_CONSUMER);
  const configs = {
    'tsconfig.node.json': { module: 'nodenext', moduleResolution: 'nodenext' },
    'tsconfig.browser.json': { module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['es2022', 'dom'] },
  };
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  for (const [name, extra] of Object.entries(configs)) {
    // skipLibCheck off: the shipped .d.ts files themselves are checked; no @types/node needed.
    const compilerOptions = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [], ...extra };
    writeFileSync(join(app, 'ts', name), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    const r = await run(process.execPath, [tsc, '-p', join(app, 'ts', name)], app);
    assert.is(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
});

test('a browser app bundled with esbuild scores the fixture in headless Chromium like Node', async () => {
  if (chromiumMissing) {
    console.log(`  SKIPPED browser consumer: ${chromiumMissing}`);
    return;
  }
  assert.ok(Number.isFinite(nodeScore), 'the .mjs consumer test ran first');
  const www = join(app, 'www');
  mkdirSync(www);
  writeFileSync(
    join(app, 'main.js'),
    `import { createScorer } from 'musiq-webgpu';
const q = new URLSearchParams(location.search);
try {
  const scorer = await createScorer({ checkpoint: q.get('checkpoint') });
  const bytes = new Uint8Array(await (await fetch(q.get('image'))).arrayBuffer());
  const r = await scorer.score(bytes, 'image');
  window.result = { score: r.score, adapter: scorer.runtime.adapterName };
} catch (e) {
  window.result = { error: String(e?.message ?? e) };
}
`,
  );
  writeFileSync(join(www, 'index.html'), '<!doctype html><script type="module" src="main.js"></script>');
  const { build } = await import('esbuild');
  // The consumer's bundler, as a user runs it: nothing but the entry, platform browser.
  await build({ absWorkingDir: app, entryPoints: ['main.js'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(www, 'main.js'), logLevel: 'error' });
  const bundle = readFileSync(join(www, 'main.js'), 'utf8');
  assert.not.match(bundle, /from ['"]node:/, 'no Node built-ins in the browser bundle');

  const server: Server = await serve(0, { '/app/': www, '/fixtures/': fixtures });
  const port = (server.address() as { port: number }).port;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('pageerror', (e) => logs.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/app/index.html?checkpoint=/fixtures/checkpoints/tiny_koniq_s0.npz&image=/fixtures/images/${IMAGE}`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 180_000 });
    const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as { score?: number; adapter?: string; error?: string };
    assert.is(result.error, undefined, `${result.error}\n${logs.join('\n')}`);
    console.log(`  bundled browser app on ${result.adapter}: ${result.score} vs Node ${nodeScore}`);
    assert.ok(Math.abs(result.score! - nodeScore) <= BROWSER_TOL, `browser ${result.score} vs node ${nodeScore}`);
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
