// `musiq score` end to end, as a user runs it: the shared fixture images with both tiny
// checkpoints against scores from an independent implementation, plus the CLI's behaviour
// on bad input, directories and named-model downloads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures');
const images = join(fixtures, 'images');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function musiq(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, 'tools', 'musiq.js'), ...args], { env: { ...process.env, ...env }, cwd: root });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Expected {
  results: { image: string; score: number; valid_tokens_with_cls: number; width: number; height: number }[];
}

// The expected scores come from a float32 PyTorch implementation; ours is float32 WebGPU.
// The fixture README measured float32-vs-float32 differences below 1e-6, and the issue's
// bar is 5e-5: every trap (erf GELU, half-up rounding, hash, channel order) moves scores by more.
const SCORE_TOL = 5e-5;

for (const ckpt of ['tiny_koniq_s0', 'tiny_ava_s0']) {
  test(`musiq score --json: every fixture image with ${ckpt} matches the independent implementation`, async () => {
    const expected = JSON.parse(readFileSync(join(fixtures, 'expected', `${ckpt}.json`), 'utf8')) as Expected;
    const r = await musiq(['score', '--json', '--checkpoint', join(fixtures, 'checkpoints', `${ckpt}.npz`), images]);
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { path: string; score: number; tokens: number; width: number; height: number; error?: string }[];
    const names = readdirSync(images).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    assert.equal(rows.map((x) => x.path.split('/').pop()), names, 'one row per image, sorted');
    for (const e of expected.results) {
      const row = rows.find((x) => x.path.endsWith(e.image.split('/').pop()!));
      assert.ok(row, `no row for ${e.image}`);
      assert.is(row.error, undefined, `${e.image}: ${row.error}`);
      assert.is(row.tokens + 1, e.valid_tokens_with_cls, `${e.image} tokens`);
      assert.equal([row.width, row.height], [e.width, e.height]);
      const diff = Math.abs(row.score - e.score);
      assert.ok(diff <= SCORE_TOL, `${e.image}: score ${row.score} vs expected ${e.score} (diff ${diff.toExponential(2)})`);
    }
  });
}

test('unreadable images become error rows, the rest is scored, exit code 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'musiq-cli-'));
  copyFileSync(join(images, 'small_64x64.png'), join(dir, 'a.png'));
  writeFileSync(join(dir, 'b.jpg'), 'this is not a jpeg');
  writeFileSync(join(dir, 'c.png'), readFileSync(join(images, 'small_64x64.png')).subarray(0, 100)); // truncated
  writeFileSync(join(dir, 'notes.txt'), 'ignored: not an image file');
  const r = await musiq(['score', '--json', '--checkpoint', join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz'), dir]);
  assert.is(r.code, 1);
  const rows = JSON.parse(r.stdout) as { path: string; score?: number; error?: string }[];
  assert.equal(rows.map((x) => x.path.split('/').pop()), ['a.png', 'b.jpg', 'c.png']);
  assert.ok(Number.isFinite(rows[0].score));
  for (const bad of rows.slice(1)) {
    assert.type(bad.error, 'string');
    assert.ok(!bad.error!.includes('\n') && bad.error!.includes(bad.path.split('/').pop()!), bad.error);
  }
});

test('musiq --version prints package.json\'s version and nothing else; exit 0', async () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-v']) {
    const r = await musiq([flag]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `${version}\n`);
  }
});

test('a missing checkpoint file is one line naming it, exit 1', async () => {
  const r = await musiq(['score', '--checkpoint', '/nonexistent/x.npz', join(images, 'small_64x64.png')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, '/nonexistent/x.npz');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('--weights f16 scores within 1e-3 of the f32 score (and not identically); a bad value is a usage error', async () => {
  const ckpt = join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz');
  const image = join(images, 'round_448x321.png');
  const [f32, f16] = await Promise.all(['f32', 'f16'].map((w) => musiq(['score', '--json', '--weights', w, '--checkpoint', ckpt, image])));
  assert.is(f32.code, 0, f32.stderr);
  assert.is(f16.code, 0, f16.stderr);
  const [a, b] = [f32, f16].map((r) => (JSON.parse(r.stdout) as { score: number }[])[0].score);
  // bench:f16 measures up to 2.6e-4 on the fixtures; 1e-3 is the bar for an f16 mode.
  assert.ok(a !== b && Math.abs(a - b) < 1e-3, `f32 ${a}, f16 ${b}`);
  const bad = await musiq(['score', '--weights', 'f8', '--checkpoint', ckpt, image]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--weights must be f32 or f16, got "f8"/);
});

test('--engine cpu scores like --engine gpu (both within 5e-5 of the fixture); a bad value is a usage error', async () => {
  const ckpt = join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz');
  const expected = JSON.parse(readFileSync(join(fixtures, 'expected', 'tiny_koniq_s0.json'), 'utf8')) as { results: { image: string; score: number }[] };
  const { image, score } = expected.results[0];
  const runs = await Promise.all(['gpu', 'cpu'].map((e) => musiq(['score', '--json', '--engine', e, '--checkpoint', ckpt, join(fixtures, image)])));
  for (const r of runs) {
    assert.is(r.code, 0, r.stderr);
    const got = (JSON.parse(r.stdout) as { score: number }[])[0].score;
    assert.ok(Math.abs(got - score) <= SCORE_TOL * Math.max(1, Math.abs(score)), `${got} vs ${score}`);
  }
  const bad = await musiq(['score', '--engine', 'wasm', '--checkpoint', ckpt, join(fixtures, image)]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--engine must be auto, gpu or cpu, got "wasm"/);
});

test('--format csv and table', async () => {
  const ckpt = join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz');
  const csv = await musiq(['score', '--format', 'csv', '--checkpoint', ckpt, join(images, 'small_64x64.png')]);
  assert.is(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.is(lines[0], 'path,score,variant,width,height,tokens,ms,error');
  assert.match(lines[1], /small_64x64\.png,-?\d+\.\d+(e-?\d+)?,quality,64,64,\d+,[\d.]+,$/);
  const table = await musiq(['score', '--format', 'table', '--checkpoint', ckpt, join(images, 'small_64x64.png')]);
  assert.match(table.stdout, /^path\s+score\s+variant/);
});

test('--model downloads once into $MUSIQ_HOME from --base-url, then uses the cache; offline says where to put it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'musiq-home-'));
  const body = readFileSync(join(fixtures, 'checkpoints', 'tiny_koniq_s0.npz'));
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if (req.url === '/koniq_ckpt.npz') res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const image = join(images, 'small_64x64.png');
    const first = await musiq(['score', '--json', '--model', 'koniq', '--base-url', `http://127.0.0.1:${port}`, image], { MUSIQ_HOME: home });
    assert.is(first.code, 0, first.stderr);
    assert.ok(existsSync(join(home, 'koniq_ckpt.npz')));
    const npzFiles = () => readdirSync(home).filter((f) => f.includes('.npz'));
    assert.equal(npzFiles(), ['koniq_ckpt.npz'], 'no partial files left');
    const second = await musiq(['score', '--json', '--model', 'koniq', '--base-url', `http://127.0.0.1:${port}`, image], { MUSIQ_HOME: home });
    assert.is(second.code, 0, second.stderr);
    assert.is(hits, 1, 'second run used the cache');
    assert.is(JSON.parse(second.stdout)[0].score, JSON.parse(first.stdout)[0].score);
    const missing = await musiq(['score', '--model', 'spaq', '--base-url', `http://127.0.0.1:${port}`, image], { MUSIQ_HOME: home });
    assert.is(missing.code, 1);
    assert.match(missing.stderr, join(home, 'spaq_ckpt.npz'));
    assert.equal(npzFiles(), ['koniq_ckpt.npz'], 'a failed download leaves nothing behind');
  } finally {
    server.close();
  }
});

test.run();
