// The pacing of Dawn's event polling (src/runtime/gpu.node.ts): Dawn's bare native tick callback
// goes to a timer once a wait has spun for spinMs, every other setImmediate caller is untouched,
// and GPU work still completes with timer-paced ticks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gpu } from '../gpu.ts';
import { dawnPolling } from '../../src/runtime/gpu.node.ts';
import { axpby } from '../../src/kernels/elementwise.ts';
import { peakFma } from '../../src/kernels/roofline.ts';

// A stand-in for Dawn's tick: a native function without a name that takes no arguments.
const nativeTick = Function.prototype as (...args: unknown[]) => void;
const kind = (handle: unknown) => (handle as object).constructor.name;

test('JS callbacks and bound functions still go to the real setImmediate, with their arguments', async () => {
  await gpu(); // installs the pacing
  const got: unknown[] = [];
  await new Promise<void>((done) => {
    const h = setImmediate((a: number, b: string) => (got.push(a, b), done()), 1, 'x');
    assert.is(kind(h), 'Immediate');
  });
  assert.equal(got, [1, 'x']);
  const bound = function (this: { n: number }) { got.push(this.n); }.bind({ n: 7 });
  await new Promise<void>((done) => assert.is(kind(setImmediate(() => (bound(), done()))), 'Immediate'));
  const saved = { ...dawnPolling };
  try {
    dawnPolling.spinMs = 0; // even when Dawn's ticks are paced
    assert.is(kind(setImmediate(bound)), 'Immediate');
    assert.is(kind(setImmediate(nativeTick, 1)), 'Immediate', 'a native callback with arguments is not a Dawn tick');
  } finally {
    Object.assign(dawnPolling, saved);
  }
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(got, [1, 'x', 7, 7]);
});

test("Dawn's ticks are immediate within spinMs and timers after it", async () => {
  await gpu();
  const saved = { ...dawnPolling };
  try {
    dawnPolling.spinMs = Infinity;
    assert.is(kind(setImmediate(nativeTick)), 'Immediate');
    dawnPolling.spinMs = 0;
    assert.is(kind(setImmediate(nativeTick)), 'Timeout');
  } finally {
    Object.assign(dawnPolling, saved);
  }
});

// The timer's delay as Node keeps it (Timeout#_idleTimeout, an internal field Node has had since v0.x).
const delayOf = (handle: unknown) => (handle as { _idleTimeout: number })._idleTimeout;

test('a tick scheduled from outside a Dawn tick starts a new wait, however soon after the last', async () => {
  await gpu();
  const saved = { ...dawnPolling };
  try {
    Object.assign(dawnPolling, { spinMs: 0, intervalMs: 1, backoff: 1 / 8, maxIntervalMs: 5 });
    const start = performance.now();
    while (performance.now() - start < 60) {
      const h = setImmediate(nativeTick);
      assert.is(delayOf(h), 1, 'only Dawn rescheduling from inside its tick continues a wait');
      clearTimeout(h as unknown as NodeJS.Timeout);
      for (const t = performance.now(); performance.now() - t < 1; );
    }
  } finally {
    Object.assign(dawnPolling, saved);
  }
});

test("a long GPU wait's ticks back off, and a wait right after it starts at intervalMs again", async () => {
  const rt = await gpu();
  const saved = { ...dawnPolling };
  const realSetTimeout = globalThis.setTimeout;
  let delays: number[] = [];
  globalThis.setTimeout = ((cb: () => void, ms?: number) => (delays.push(ms ?? 0), realSetTimeout(cb, ms))) as typeof setTimeout;
  const out = rt.empty([64 * 64 * 4]);
  try {
    Object.assign(dawnPolling, { spinMs: 0, intervalMs: 1, backoff: 1 / 4, maxIntervalMs: 20 });
    let long: number[] = [];
    let iters = 16384;
    // Lengthen the GPU work until one wait lasts long enough (~80 ms) for its ticks to back off.
    for (; iters <= 2 ** 24; iters *= 4) {
      peakFma(rt, out, { workgroups: 64, iters, chains: 2 });
      delays = [];
      await rt.sync();
      long = delays;
      if (Math.max(0, ...long) >= 20) break;
    }
    const grows = long.slice(0, long.indexOf(20) + 1);
    assert.ok(grows.every((d, i) => i === 0 || d >= grows[i - 1]), `delays never shrink within a wait: ${long}`);
    assert.is(Math.max(...long), 20, `a long wait's delay reaches maxIntervalMs: ${long}`);
    // Then at once a wait an eighth as long (~10 ms or more): several ticks, all short. Before,
    // a wait that began within ~4 delays of the last tick took over the long wait's 20 ms.
    peakFma(rt, out, { workgroups: 64, iters: iters / 8, chains: 2 });
    delays = [];
    await rt.sync();
    assert.ok(delays.length > 0 && delays[0] <= 2, `the next wait's ticks start short again: ${delays}`);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    Object.assign(dawnPolling, saved);
    out.dispose();
  }
});

test('GPU work completes and reads back right when every tick waits on a timer', async () => {
  const rt = await gpu();
  const saved = { ...dawnPolling };
  try {
    dawnPolling.spinMs = 0;
    dawnPolling.intervalMs = 3;
    const a = rt.upload(Float32Array.from({ length: 1000 }, (_, i) => i));
    const b = rt.upload(Float32Array.from({ length: 1000 }, () => 1));
    const y = axpby(rt, a, b, 2, -3);
    const got = await rt.read(y);
    for (let i = 0; i < 1000; i++) assert.is(got[i], 2 * i - 3, `element ${i}`);
    await rt.sync();
    for (const t of [a, b, y]) t.dispose();
  } finally {
    Object.assign(dawnPolling, saved);
  }
});


// The pacing is a global change, so a host must be able to refuse it and get it undone.
const probe = (arg: string, env: Record<string, string> = {}) => {
  const script = fileURLToPath(new URL('../fixtures/pacing-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, arg], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { untouchedWhileAlive: boolean; untouchedAfter: boolean; read: number[] };
};

test('createNodeRuntime({ pacedPolling: false }) leaves globalThis.setImmediate untouched', () => {
  assert.equal(probe('off'), { untouchedWhileAlive: true, untouchedAfter: true, read: [1, 2, 3] });
});

test('MUSIQ_DAWN_PACING=0 (how the CLI is told) leaves it untouched too', () => {
  assert.equal(probe('default', { MUSIQ_DAWN_PACING: '0' }), { untouchedWhileAlive: true, untouchedAfter: true, read: [1, 2, 3] });
});

test('by default the pacing is installed while the runtime lives and removed when it is destroyed', () => {
  assert.equal(probe('default'), { untouchedWhileAlive: false, untouchedAfter: true, read: [1, 2, 3] });
});

test.run();
