// `musiq score` on a dataset: streamed --out files that survive SIGKILL and resume, Ctrl-C, shards,
// CSV/JSONL round trips, the embeddings .npy, refusal of foreign files, and `musiq validate`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpu } from './gpu.ts';
import { createScorer } from '../src/index.node.ts';
import { parseNpyHeader } from '../src/npz/npy.ts';
import { csvLine, CSV_HEADER, readResults, type ResultRow } from '../tools/result-file.ts';
import { matchesPublished } from '../tools/validate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const images = join(root, 'test', 'fixtures', 'images');
const CKPT = join(root, 'test', 'fixtures', 'checkpoints', 'tiny_koniq_s0.npz');
const N = 16;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [join(root, 'tools', 'musiq.js'), ...args], { env: { ...process.env, ...env }, cwd: root });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
const musiq = (args: string[], env?: Record<string, string>) => start(args, env).done;

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

async function untilRows(file: string, n: number, run: Promise<Run>): Promise<void> {
  let exited = false;
  void run.then(() => (exited = true));
  while (lines(file).length < n) {
    assert.ok(!exited, `the run ended before writing ${n} rows`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const work = mkdtempSync(join(tmpdir(), 'musiq-batch-'));
const dataset = join(work, 'dataset');
mkdirSync(dataset);
for (let i = 0; i < N; i++) copyFileSync(join(images, i % 2 ? 'tiny_31x47.png' : 'small_64x64.png'), join(dataset, `img${String(i).padStart(2, '0')}.png`));
writeFileSync(join(dataset, 'broken.jpg'), 'not a jpeg');
const ALL = N + 1;
test.after(() => rmSync(work, { recursive: true, force: true }));

let clean: ResultRow[] = [];

test('a clean --out run: one flushed row per image, the broken one as an error row, exit 1; progress lines without a terminal', async () => {
  const out = join(work, 'clean.jsonl');
  const r = await musiq(['score', '--checkpoint', CKPT, '--out', out, dataset], { MUSIQ_PROGRESS_MS: '0' });
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, '', 'rows go to the file, not stdout');
  clean = readResults(readFileSync(out, 'utf8'), out, 'jsonl').rows;
  assert.is(clean.length, ALL);
  assert.match(clean.find((x) => x.path.endsWith('broken.jpg'))!.error!, 'broken.jpg');
  assert.match(r.stderr, /musiq: \d+\/17 +[\d.]+ img\/s +ETA [\d:-]+ +\S+img\d\d\.png/);
  assert.match(r.stderr, `${N} scored, 1 failed, 0 skipped`);
});

test('SIGKILL mid-run plus a torn last line: the rerun drops the torn line and scores every image exactly once', async () => {
  const out = join(work, 'killed.jsonl');
  const npy = join(work, 'killed.npy');
  const first = start(['score', '--checkpoint', CKPT, '--out', out, '--embeddings', npy, dataset]);
  await untilRows(out, 4, first.done);
  first.child.kill('SIGKILL');
  await first.done;
  const kept = lines(out).length;
  assert.ok(kept >= 4 && kept < ALL, `killed after ${kept} rows`);
  appendFileSync(out, '{"path":"' + join(dataset, 'img1'));
  const second = await musiq(['score', '--checkpoint', CKPT, '--out', out, '--embeddings', npy, dataset]);
  assert.is(second.code, 1, second.stderr);
  assert.match(second.stderr, 'dropped a torn last line');
  assert.match(second.stderr, `${kept} skipped`);
  const rows = readResults(readFileSync(out, 'utf8'), out, 'jsonl').rows;
  assert.equal(rows.map((x) => x.path).sort(), clean.map((x) => x.path).sort(), 'every image once');
  // The same computation, unless the adapter's kernels were promoted to their faster tier between
  // the runs (tiers.ts: two minutes of scoring, counted across processes in $MUSIQ_HOME, so a whole
  // test suite can cross it): another matmul tile, sums in another order, ~1e-7 apart. A row that
  // belongs to another image is O(1) off.
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
  for (const row of rows) {
    const c = clean.find((x) => x.path === row.path)!;
    assert.ok(row.error ? row.error === c.error : near(row.score!, c.score!), `${row.path}: ${row.score} against the clean run's ${c.score}`);
  }
  // The embeddings follow the rows, even across the kill.
  const bytes = readFileSync(npy);
  const h = parseNpyHeader(bytes, npy, 'embeddings');
  assert.equal(h.shape, [ALL, 64]);
  assert.is(bytes.length, h.headerLength + ALL * 64 * 4);
  const emb = new Float32Array(bytes.buffer.slice(bytes.byteOffset + h.headerLength, bytes.byteOffset + bytes.length));
  const rt = await gpu();
  const scorer = await createScorer({ checkpoint: CKPT, runtime: rt });
  try {
    for (const [i, row] of rows.entries()) {
      const got = emb.subarray(i * 64, (i + 1) * 64);
      if (row.error) {
        assert.ok(got.every(Number.isNaN), 'an error row has a NaN embedding');
        continue;
      }
      const want = (await scorer.score(readFileSync(row.path), row.path)).embedding;
      const off = got.findIndex((v, j) => !near(v, want[j]));
      assert.is(off, -1, `${row.path}: embedding row ${i}, value ${off}: ${got[off]} against ${want[off]}`);
    }
  } finally {
    scorer.dispose();
  }
});

test('Ctrl-C stops after the current image and says how to resume; the rerun finishes', async () => {
  const out = join(work, 'sigint.csv');
  const first = start(['score', '--checkpoint', CKPT, '--out', out, dataset]);
  await untilRows(out, 3, first.done); // header + 2 rows
  first.child.kill('SIGINT');
  const r = await first.done;
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, `run the same command again to resume from ${out}`);
  const partial = lines(out).length - 1;
  assert.ok(partial < ALL, `${partial} rows before the stop`);
  const again = await musiq(['score', '--checkpoint', CKPT, '--out', out, dataset]);
  assert.is(again.code, 1, again.stderr);
  const rows = readResults(readFileSync(out, 'utf8'), out, 'csv').rows;
  assert.equal(rows.map((x) => x.path).sort(), clean.map((x) => x.path).sort());
  // CSV keeps the score's shortest round-trip form: the very numbers of the JSONL run.
  for (const row of rows) assert.is(row.score ?? undefined, clean.find((x) => x.path === row.path)!.score ?? undefined, row.path);
});

test('shards 1/3, 2/3, 3/3 are disjoint and together every image; bad --shard values are usage errors', async () => {
  const seen: string[] = [];
  for (let k = 1; k <= 3; k++) {
    const out = join(work, `shard${k}.jsonl`);
    const r = await musiq(['score', '--checkpoint', CKPT, '--shard', `${k}/3`, '--out', out, dataset]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const rows = readResults(readFileSync(out, 'utf8'), out, 'jsonl').rows;
    assert.ok(rows.length >= 5 && rows.length <= 6, `shard ${k}: ${rows.length} rows`);
    seen.push(...rows.map((x) => x.path));
  }
  assert.is(new Set(seen).size, seen.length, 'disjoint');
  assert.equal(seen.sort(), clean.map((x) => x.path).sort(), 'complete');
  for (const bad of ['0/3', '4/3', '1/0', 'a/b', '2', '-1/3']) {
    const r = await musiq(['score', '--checkpoint', CKPT, '--shard', bad, dataset]);
    assert.is(r.code, 2, `--shard ${bad}`);
    assert.match(r.stderr, '--shard takes K/N');
  }
});

test('CSV and JSONL rows round-trip, odd paths and messages included', () => {
  const rows: ResultRow[] = [
    { path: 'a,b "c".png', score: 0.1 + 0.2, variant: 'quality', width: 3, height: 1, tokens: 194, ms: 12.5 },
    { path: 'x.jpg', error: 'x.jpg: bad "marker", at 12' },
    { path: 'big.png', score: -1.5e-7, variant: 'quality', width: 4000, height: 3000, tokens: 11900, ms: 20000 },
  ];
  const csv = [CSV_HEADER.join(','), ...rows.map(csvLine)].join('\n') + '\n';
  assert.equal(readResults(csv, 'x.csv', 'csv').rows, rows);
  const jsonl = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  assert.equal(readResults(jsonl, 'x.jsonl', 'jsonl').rows, rows);
});

test('a foreign or corrupt --out file is refused in one line and left untouched', async () => {
  const cases: [string, string][] = [
    ['notes.jsonl', 'my own notes\nline two\n'],
    ['noline.jsonl', 'no newline at all, not ours'],
    ['other.csv', 'name,value\na,1\n'],
    ['mixed.jsonl', JSON.stringify(clean[0]) + '\n{"foo": 1}\n'],
  ];
  for (const [name, body] of cases) {
    const file = join(work, name);
    writeFileSync(file, body);
    const r = await musiq(['score', '--checkpoint', CKPT, '--out', file, join(images, 'tiny_31x47.png')]);
    assert.ok(r.code !== 0, name);
    assert.match(r.stderr, file);
    assert.is(r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:')).length, 1, r.stderr);
    assert.is(readFileSync(file, 'utf8'), body, `${name} unchanged`);
  }
});

test('validate: the published-digit rule', () => {
  assert.ok(matchesPublished(12.4936, '12.494'));
  assert.ok(matchesPublished(73.052291, '73.05229'));
  assert.not.ok(matchesPublished(12.4934, '12.494'));
  assert.not.ok(matchesPublished(73.05231, '73.05229'));
});

test('validate: a synthetic checkpoint fails (exit 1) with expected, got and difference per photo', async () => {
  const r = await musiq(['validate', '--checkpoint', CKPT]);
  assert.is(r.code, 1, r.stderr);
  for (const image of ['I03.png', 'I04.png', 'I06.png', 'I08.png', 'I19.png']) assert.match(r.stdout, new RegExp(`${image.replace('.', '\\.')} +\\d+\\.\\d+ +-?\\d+\\.\\d+ +\\S+ +DIFFERS`));
  assert.match(r.stdout, '5 of 5 scores differ');
});

test('validate offline without the checkpoint: one line naming the URL and where to put it, exit 2', async () => {
  const home = mkdtempSync(join(tmpdir(), 'musiq-home-'));
  const r = await musiq(['validate', '--model', 'spaq', '--base-url', 'http://127.0.0.1:9'], { MUSIQ_HOME: home });
  assert.is(r.code, 2, r.stderr);
  const msg = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:'));
  assert.is(msg.length, 1, r.stderr);
  assert.match(msg[0], 'http://127.0.0.1:9/spaq_ckpt.npz');
  assert.match(msg[0], join(home, 'spaq_ckpt.npz'));
  const imagenet = await musiq(['validate', '--model', 'imagenet'], { MUSIQ_HOME: home });
  assert.is(imagenet.code, 2);
  assert.match(imagenet.stderr, 'no published scores');
});

test.run();
