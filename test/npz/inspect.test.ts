// `musiq inspect`: the acceptance numbers on synthetic checkpoints (full, tiny, deflated with
// optimizer extras), headers-only reading, and one-line failures with exit code 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as inspect } from '../../tools/inspect.ts';
import { main as write } from '../../tools/write-checkpoint.ts';
import { openCheckpoint } from '../../src/musiq/checkpoint.ts';
import { fileSource } from '../../src/npz/source.node.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'musiq-inspect-'));

/** Runs a CLI main in-process and returns its exit code and what it printed. */
async function run(main: (a: string[]) => Promise<number>, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (s: string) => out.push(s);
  console.error = (s: string) => err.push(s);
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    Object.assign(console, { log, error });
  }
}

interface Report { variant: string; numClasses: number; parameters: number; tensors: { name: string; dtype: string; shape: number[] }[]; ignored: string[]; dims: Record<string, number> }
async function inspectJson(file: string): Promise<Report> {
  const r = await run(inspect, [file, '--json']);
  assert.is(r.code, 0, r.err);
  return JSON.parse(r.out) as Report;
}

test('full-size synthetic checkpoint: 248 tensors, 27,125,825 parameters, read from headers only', async () => {
  const file = join(dir, 'full.npz');
  assert.is((await run(write, [file])).code, 0);
  const j = await inspectJson(file);
  assert.equal([j.variant, j.numClasses, j.parameters, j.tensors.length, j.ignored], ['quality', 1, 27_125_825, 248, []]);
  assert.equal(j.dims, { hidden: 384, layers: 14, heads: 6, headDim: 64, mlp: 1152, stemWidth: 64, numClasses: 1, numScales: 3, posGrid: 10, preLogits: 0 });
  assert.equal(j.tensors[0], { name: 'conv_root/kernel', dtype: '<f4', shape: [7, 7, 3, 64] });
  const text = await run(inspect, [file]);
  assert.match(text.out, 'variant quality (1 output)');
  assert.match(text.out, 'parameters: 27,125,825 in 248 tensors');
  // Headers only: count what opening the checkpoint reads from the 108 MB file.
  const src = await fileSource(file);
  let read = 0;
  const counted = { ...src, read: (o: number, n: number) => ((read += n), src.read(o, n)) };
  await openCheckpoint(counted);
  await src.close!();
  assert.ok(read < 600_000, `read ${read} bytes`);
});

test('tiny, and tiny deflated with optimizer extras: the same tensors, the extras under ignored', async () => {
  const plain = join(dir, 'tiny.npz'), packed = join(dir, 'tiny-extras.npz');
  assert.is((await run(write, [plain, '--tiny', '--classes', '10'])).code, 0);
  assert.is((await run(write, [packed, '--tiny', '--classes', '10', '--deflate', '--extras', '--seed', '5'])).code, 0);
  const a = await inspectJson(plain), b = await inspectJson(packed);
  assert.equal([a.variant, a.parameters, a.tensors.length, a.ignored.length], ['ava', 622_570, 56, 0]);
  assert.equal(b.tensors, a.tensors);
  assert.is(b.parameters, 622_570);
  assert.is(b.ignored.length, 57);
  assert.ok(b.ignored.includes('opt/state/step') && b.ignored.includes('opt/state/param_states/head/kernel/momentum'));
});

test('through the musiq bin: JSON on success; exit 1 and one line naming the file on a broken one', async () => {
  const musiq = (...args: string[]) => spawnSync(process.execPath, [join(root, 'tools/musiq.js'), 'inspect', ...args], { encoding: 'utf8', timeout: 60_000 });
  const ok = musiq(join(root, 'test/fixtures/checkpoints/tiny_koniq_s0.npz'), '--json');
  assert.is(ok.status, 0, ok.stderr);
  assert.is((JSON.parse(ok.stdout) as Report).parameters, 621_985);
  const broken = join(dir, 'broken.npz');
  writeFileSync(broken, readFileSync(join(root, 'test/fixtures/checkpoints/tiny_koniq_s0.npz')).subarray(0, 100_000));
  const r = musiq(broken);
  assert.equal([r.status, r.stdout, r.stderr], [1, '', `musiq inspect: ${broken}: truncated or damaged zip (no end-of-central-directory record)\n`]);
  // The same path in-process (a process per case costs a second on this machine).
  for (const [file, why] of [[dir, 'is a directory, not a file'], [join(dir, 'none.npz'), 'no such file']]) {
    assert.equal(await run(inspect, [file]), { code: 1, out: '', err: `musiq inspect: ${file}: ${why}` });
  }
  assert.equal((await run(inspect, [])).code, 1);
  rmSync(dir, { recursive: true });
});

test.run();
