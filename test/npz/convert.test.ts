// `musiq convert`: the files it writes (layout, sizes, values, what NumPy reads), and how it and
// the loader treat bad input. The scores of converted files are in test/musiq/convert-score.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { fileSource } from '../../src/npz/source.node.ts';
import { npzChunks, writeNpz, type NpyMember } from '../../src/npz/writer.ts';
import { syntheticMembers } from '../../tools/write-checkpoint.ts';
import { CheckpointError, openCheckpoint } from '../../src/musiq/checkpoint.ts';
import { CONVERT_MEMBER, SCALE_PREFIX } from '../../src/musiq/quantize.ts';
import { convertCheckpoint } from '../../tools/convert.ts';
import { rejects } from './util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ckpts = join(root, 'test', 'fixtures', 'checkpoints');
const dir = mkdtempSync(join(tmpdir(), 'musiq-convert-'));
const NAMES = ['tiny_koniq_s0', 'tiny_ava_s0'];

function musiq(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, 'tools', 'musiq.js'), ...args], { cwd: dir });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Nothing but the expected files: no output, no temporary file left behind by a failure. */
function onlyFiles(expected: string[]): void {
  assert.equal(readdirSync(dir).sort(), [...expected].sort());
}

const converted = (name: string, p: string) => join(dir, `${name}_${p}.npz`);

test.before(async () => {
  for (const name of NAMES) {
    for (const p of ['f16', 'int8'] as const) await convertCheckpoint(join(ckpts, `${name}.npz`), converted(name, p), p);
  }
});

for (const name of NAMES) {
  test(`${name}: every original key, stored, kernels f16 / int8 with scales, the rest float32, within the size bounds`, async () => {
    const orig = await openNpz(bytesSource(name, readFileSync(join(ckpts, `${name}.npz`))));
    const origSize = statSync(join(ckpts, `${name}.npz`)).size;
    for (const p of ['f16', 'int8'] as const) {
      const file = converted(name, p);
      const npz = await openNpz(bytesSource(file, readFileSync(file)));
      assert.ok(npz.members.every((m) => m.method === 'stored'), 'stored, so members map by offset');
      for (const o of orig.members) {
        const m = npz.get(o.name);
        assert.ok(m, `${p}: ${o.name} kept`);
        assert.equal(m!.shape, o.shape, o.name);
        const key = o.name.slice('opt/target/'.length);
        const shrunk = key.endsWith('/kernel') && key !== 'head/kernel';
        assert.is(m!.descr, shrunk ? (p === 'f16' ? '<f2' : '|i1') : '<f4', o.name);
        const want = await orig.readF32(o.name);
        let got = await npz.readF32(o.name);
        let bound: (v: number) => number = () => 0;
        if (shrunk && p === 'f16') bound = (v) => 2 ** -11 * Math.abs(v) + 2 ** -25; // half an f16 ulp (and subnormals)
        if (shrunk && p === 'int8') {
          const scale = await npz.readF32(SCALE_PREFIX + key);
          assert.equal(npz.get(SCALE_PREFIX + key)!.shape, key.match(/(query|key|value)\/kernel$/) ? o.shape.slice(-2) : o.shape.slice(-1));
          const cols = scale.length;
          // Independent check of the quantization: each column's scale is its max |w| / 127,
          // and every value is within half a step of it.
          for (let c = 0; c < cols; c++) {
            let max = 0;
            for (let i = c; i < want.length; i += cols) max = Math.max(max, Math.abs(want[i]));
            assert.ok(Math.abs(scale[c] - max / 127) <= 1e-7 * max, `${o.name} scale ${c}`);
          }
          got = got.map((q, i) => q * scale[i % cols]);
          const worst = want.reduce((w, v, i) => Math.max(w, Math.abs(got[i] - v) / (0.5 * scale[i % cols] * (1 + 1e-6))), 0);
          assert.ok(worst <= 1, `${o.name}: an int8 value is ${worst} half-steps from the original`);
          continue;
        }
        want.forEach((v, i) => {
          if (Math.abs(got[i] - v) > bound(v)) assert.unreachable(`${p} ${o.name}[${i}]: ${got[i]} vs ${v}`);
        });
      }
      const provenance = JSON.parse(new TextDecoder().decode((await npz.read(CONVERT_MEMBER)).data as Uint8Array));
      const sha = execFileSync('sha256sum', [join(ckpts, `${name}.npz`)], { encoding: 'utf8' }).split(' ')[0];
      assert.equal([provenance.precision, provenance.source.name, provenance.source.sha256, provenance.source.bytes], [p, `${name}.npz`, sha, origSize]);
      // The bounds: f16 ≤ 0.55×, int8 ≤ 0.32× of the original.
      const ratio = statSync(file).size / origSize;
      assert.ok(ratio <= (p === 'f16' ? 0.55 : 0.32), `${p}: ${ratio.toFixed(3)}x of the original`);
    }
  });
}

test('NumPy loads converted files with every original key, and dequantizes int8 by broadcasting the scale', () => {
  let python = true;
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  } catch {
    python = false;
  }
  if (!python) {
    console.log('\n  SKIPPED: python3 with numpy is not installed (the JS reader checks above still ran)');
    return;
  }
  const script = `
import json, sys, numpy as np
orig, f16, i8 = (np.load(f) for f in sys.argv[1:4])
for z in (f16, i8):
    assert set(orig.files) <= set(z.files), set(orig.files) - set(z.files)
    assert json.loads(bytes(z['${CONVERT_MEMBER}']).decode())['source']['name'] == sys.argv[4]
worst = {'f16': 0.0, 'int8': 0.0}
for k in orig.files:
    o = orig[k].astype(np.float64)
    a = f16[k].astype(np.float64)
    b = i8[k].astype(np.float64)
    if i8[k].dtype == np.int8: b = b * i8['${SCALE_PREFIX}' + k[len('opt/target/'):]]
    m = max(np.abs(o).max(), 1e-30)
    worst['f16'] = max(worst['f16'], np.abs(a - o).max() / m)
    worst['int8'] = max(worst['int8'], np.abs(b - o).max() / m)
print(json.dumps(worst))
`;
  for (const name of NAMES) {
    const out = execFileSync('python3', ['-c', script, join(ckpts, `${name}.npz`), converted(name, 'f16'), converted(name, 'int8'), `${name}.npz`], { encoding: 'utf8' });
    const worst = JSON.parse(out) as { f16: number; int8: number };
    // Relative to each tensor's largest value: f16 rounds to 2^-11 of a value; int8 to half of max/127.
    assert.ok(worst.f16 <= 2 ** -11 && worst.int8 <= 0.5 / 127 + 1e-7, out);
  }
});

test('musiq inspect shows the precision and where the file came from', async () => {
  const r = await musiq(['inspect', '--json', converted('tiny_koniq_s0', 'int8')]);
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.is(info.precision, 'int8');
  assert.is(info.convertedFrom.name, 'tiny_koniq_s0.npz');
  assert.match(info.convertedFrom.sha256, /^[0-9a-f]{64}$/);
  const text = await musiq(['inspect', converted('tiny_koniq_s0', 'f16')]);
  assert.match(text.stdout, /precision: f16 \(musiq convert, from tiny_koniq_s0\.npz/);
  const plain = await musiq(['inspect', join(ckpts, 'tiny_koniq_s0.npz')]);
  assert.match(plain.stdout, /precision: f32\n/);
});

test('musiq validate holds a converted file to its precision\'s tolerance, not to every published digit', async () => {
  const r = await musiq(['validate', '--checkpoint', converted('tiny_koniq_s0', 'int8')]);
  // Random weights: far from the published koniq scores, whatever the tolerance.
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, /^int8 checkpoint \(musiq convert\): a score passes within 0\.03·max\(1, \|expected\|\)/);
  assert.match(r.stdout, '5 of 5 scores differ');
});

test('bad input: one line, exit 1, no output and no temporary file left', async () => {
  const before = readdirSync(dir);
  const bytes = readFileSync(join(ckpts, 'tiny_koniq_s0.npz'));
  writeFileSync(join(dir, 'truncated.npz'), bytes.subarray(0, bytes.length >> 1));
  copyFileSync(join(root, 'test', 'fixtures', 'images', 'grad_512x384.png'), join(dir, 'photo.npz'));
  // Directory intact, one member's data damaged: found mid-stream, after the output was started.
  const corrupt = new Uint8Array(bytes);
  corrupt[bytes.length >> 1] ^= 0xff;
  writeFileSync(join(dir, 'corrupt.npz'), corrupt);
  const cases: [string[], RegExp][] = [
    [['truncated.npz', 'out.npz'], /truncated\.npz: /],
    [['photo.npz', 'out.npz'], /photo\.npz: /],
    [['missing.npz', 'out.npz'], /missing\.npz: no such file/],
    [['corrupt.npz', 'out.npz'], /corrupt\.npz: member .*CRC mismatch/],
    [[converted('tiny_koniq_s0', 'f16'), 'out.npz'], /already converted \(f16, from tiny_koniq_s0\.npz\)/],
  ];
  for (const [files, pattern] of cases) {
    const r = await musiq(['convert', '--weights', 'int8', ...files]);
    assert.is(r.code, 1, `${files[0]}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^musiq convert: /);
    assert.match(r.stderr, pattern);
    assert.is(r.stdout, '');
    onlyFiles([...before, 'truncated.npz', 'photo.npz', 'corrupt.npz']);
  }
  const usage = await musiq(['convert', '--weights', 'q4', 'a.npz', 'b.npz']);
  assert.is(usage.code, 1);
  assert.match(usage.stderr, /--weights must be f16 or int8, not "q4"/);
});

test('an existing output is kept unless --force', async () => {
  const out = join(dir, 'existing.npz');
  writeFileSync(out, 'precious');
  const src = join(ckpts, 'tiny_koniq_s0.npz');
  const r = await musiq(['convert', '--weights', 'f16', src, out]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /existing\.npz: already exists \(--force overwrites it\)/);
  assert.is(readFileSync(out, 'utf8'), 'precious');
  const forced = await musiq(['convert', '--weights', 'f16', '--force', src, out]);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /existing\.npz: f16, .* \(0\.5\d+x of/);
  assert.equal(readFileSync(out), readFileSync(converted('tiny_koniq_s0', 'f16')), 'the same bytes as any other conversion');
  const self = await musiq(['convert', '--weights', 'f16', '--force', src, src]);
  assert.is(self.code, 1);
  assert.match(self.stderr, /must not be the input/);
});

test('Ctrl-C during a conversion removes the partial output', async () => {
  const sub = mkdtempSync(join(dir, 'sigint-'));
  const big = join(sub, 'full.npz');
  const fd = openSync(big, 'w');
  for (const chunk of npzChunks(syntheticMembers({ config: 'full', numClasses: 1 }))) writeSync(fd, chunk);
  closeSync(fd);
  const p = spawn(process.execPath, [join(root, 'tools', 'musiq.js'), 'convert', '--weights', 'int8', big, join(sub, 'out.npz')], { cwd: sub });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => p.on('close', r));
  // Wait for the temporary file (written after the sha256 pass), then interrupt.
  const t0 = Date.now();
  while (!readdirSync(sub).some((f) => f.endsWith('.tmp')) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
  p.kill('SIGINT');
  const code = await closed;
  assert.is(code, 130, stderr);
  assert.match(stderr, /interrupted \(SIGINT\); the partial output was removed/);
  assert.equal(readdirSync(sub), ['full.npz']);
  rmSync(sub, { recursive: true, force: true });
});

/** A converted file (int8 unless said) with its members passed through `edit` (undefined drops one). */
async function edited(edit: (m: NpyMember) => NpyMember | undefined, file = converted('tiny_koniq_s0', 'int8')): Promise<Uint8Array> {
  const npz = await openNpz(await fileSource(file));
  const members: NpyMember[] = [];
  for (const m of npz.members) {
    const { data } = await npz.read(m.name);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const e = edit({ name: m.name, descr: m.descr, shape: m.shape, byteLength: bytes.length, data: () => bytes });
    if (e) members.push(e);
  }
  await npz.source.close?.();
  return writeNpz(members);
}

test('a float16 checkpoint without musiq\'s record is recognised as f16 and not converted again', async () => {
  const bytes = await edited((m) => (m.name === CONVERT_MEMBER ? undefined : m), converted('tiny_koniq_s0', 'f16'));
  const ckpt = await openCheckpoint(bytesSource('own_f16.npz', bytes));
  assert.equal([ckpt.precision, ckpt.provenance], ['f16', undefined]);
  writeFileSync(join(dir, 'own_f16.npz'), bytes);
  const r = await musiq(['convert', '--weights', 'int8', 'own_f16.npz', 'out.npz']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /own_f16\.npz: already holds f16 kernels; convert the original float32 checkpoint instead/);
  rmSync(join(dir, 'own_f16.npz'));
});

test('a converted file whose scale members are missing or do not match is refused on load, naming the member', async () => {
  const scaleOf = `${SCALE_PREFIX}embedding/kernel`;
  const open = async (bytes: Uint8Array) => openCheckpoint(bytesSource('bad.npz', bytes));
  await rejects(async () => open(await edited((m) => (m.name === scaleOf ? undefined : m))), /int8 member opt\/target\/embedding\/kernel has no scale member musiq\/int8_scale\/embedding\/kernel/, CheckpointError);
  const short = (m: NpyMember): NpyMember => {
    const bytes = m.data().subarray(0, 4 * (m.shape[0] - 1));
    return { ...m, shape: [m.shape[0] - 1], byteLength: bytes.length, data: () => bytes };
  };
  await rejects(async () => open(await edited((m) => (m.name === scaleOf ? short(m) : m))), /scale member musiq\/int8_scale\/embedding\/kernel is \(63,\), expected \(64,\)/, CheckpointError);
  await rejects(
    async () => open(await edited((m) => (m.name === `${SCALE_PREFIX}Transformer/cls` || m.name !== scaleOf ? m : { ...m, name: `${SCALE_PREFIX}Transformer/cls` }))),
    /scale member musiq\/int8_scale\/Transformer\/cls belongs to no int8 member/,
    CheckpointError,
  );
  // Well-formed but holding NaN: found when the tensor is read, before anything is scored.
  const nan = (m: NpyMember): NpyMember => {
    const f = new Float32Array(m.data().slice().buffer);
    f[5] = NaN;
    return { ...m, data: () => new Uint8Array(f.buffer) };
  };
  const ckpt = await open(await edited((m) => (m.name === scaleOf ? nan(m) : m)));
  await rejects(() => ckpt.read('embedding/kernel'), /scale member musiq\/int8_scale\/embedding\/kernel holds NaN at 5/, CheckpointError);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
