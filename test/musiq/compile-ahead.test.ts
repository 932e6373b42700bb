// src/musiq/compile-ahead.ts: a second device compiles the encoder's attention kernel while the
// scorer's device loads and runs the stem, and the first forward waits for it before its first attention;
// on SwiftShader the scorer's own device starts that compile before the checkpoint is read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { gpu, newRuntime } from '../gpu.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Dispatch } from '../../src/runtime/runtime.ts';
import type { TuneCache } from '../../src/kernels/tune.ts';
import { attention, attentionVariant, attentionVariants, prepareAttention, promoteAfter, provenLong } from '../../src/kernels/attention.ts';
import { demote, isPromoted } from '../../src/kernels/tiers.ts';
import { matmulVariant, setMatmulTile } from '../../src/kernels/matmul.ts';
import { compileAhead, compilePromotedAhead, compilingAhead, compileWhileLoading, rememberCompiled } from '../../src/musiq/compile-ahead.ts';
import { openCheckpoint } from '../../src/musiq/checkpoint.ts';
import { MusiqModel } from '../../src/musiq/model.ts';
import { preprocess } from '../../src/musiq/preprocess.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { syntheticImage } from '../../src/bench/synthetic-image.ts';
import { writeSyntheticCheckpoint } from '../../tools/write-checkpoint.ts';
import { openScorer } from '../../src/open-scorer.ts';
import { isDownload } from '../../src/checkpoint-input.ts';

const dims = { heads: 2, headDim: 16, mlp: 1152, hidden: 384 } as Parameters<typeof compileAhead>[2];

function memoryCache(): TuneCache & { store: Map<string, string> } {
  const store = new Map<string, string>();
  return { store, get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
}

/** newRuntime() for compileAhead that records the helpers it made, what they dispatched and whether they were destroyed. */
function recordingFactory(make: () => Promise<Runtime> = newRuntime) {
  const made: { rt: Runtime; labels: string[]; destroyed: boolean; gone: Promise<void> }[] = [];
  const factory = async () => {
    const rt = await make();
    let gone = () => {};
    const entry = { rt, labels: [] as string[], destroyed: false, gone: new Promise<void>((r) => (gone = r)) };
    const dispatch = rt.dispatch.bind(rt);
    rt.dispatch = (d: Dispatch) => {
      entry.labels.push(d.label ?? d.kernel);
      dispatch(d);
    };
    const destroy = rt.destroy.bind(rt);
    rt.destroy = () => {
      entry.destroyed = true;
      destroy();
      gone();
    };
    made.push(entry);
    return rt;
  };
  return { made, factory };
}

async function lavapipe(): Promise<Runtime | undefined> {
  const rt = await gpu();
  demote(rt); // the tier is per adapter: another test file may have left it promoted
  if (rt.adapter.architecture !== 'software') {
    skip('lavapipe', `an adapter that compiles at first dispatch is needed; this one is ${rt.adapterName}`);
    return undefined;
  }
  return rt;
}

test('lavapipe: a second device dispatches the attention variant the scorer will use, then is destroyed; the note skips it later', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const cache = memoryCache();
  const { made, factory } = recordingFactory();
  const ready = compileAhead(rt, factory, dims, cache);
  assert.ok(ready, 'a helper is started on lavapipe');
  await ready?.attention;
  assert.is(made.length, 1);
  assert.equal(made[0].labels.map((l) => l.split(' ')[0]), [`attention/${attentionVariant(rt)}`]);
  assert.ok(made[0].destroyed, 'the helper device is destroyed once the kernel ran');
  assert.is(cache.store.size, 0, 'nothing is noted before an image ran');

  await rememberCompiled(rt, cache);
  assert.is(cache.store.size, 1);
  await compileAhead(rt, factory, dims, cache)?.attention;
  assert.is(made.length, 1, 'no second helper once the cache says the kernel was compiled');
});

test('a helper that cannot be made, or is on another adapter, is given up without an error', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  await compileAhead(rt, () => Promise.reject(new Error('no second device')), dims, undefined)?.attention;
  const { made, factory } = recordingFactory(async () => {
    const other = await newRuntime();
    Object.defineProperty(other, 'adapter', { value: { ...other.adapter, description: 'another adapter' } });
    return other;
  });
  await compileAhead(rt, factory, dims, undefined)?.attention;
  assert.is(made.length, 1);
  assert.equal(made[0].labels, [], 'nothing is compiled for an adapter the scorer does not use');
  assert.ok(made[0].destroyed);
});

test('adapters that compile at pipeline creation (GPUs, SwiftShader) or no platform factory: no helper', async () => {
  const { made, factory } = recordingFactory();
  for (const architecture of ['swiftshader', 'ampere', '']) {
    const stub = { adapter: { architecture } } as unknown as Runtime;
    assert.is(compileAhead(stub, factory, dims, undefined), undefined, architecture);
  }
  const rt = await gpu();
  assert.is(compileAhead(rt, undefined, dims, undefined), undefined);
  assert.is(made.length, 0);
});

test('lavapipe: a scorer on its own device starts the helper; one given a caller\'s runtime does not', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const bytes = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 });
  const made: Runtime[] = [];
  const platform = {
    source: async () => bytesSource('tiny.npz', bytes),
    downloads: () => false,
    newRuntime: async () => (made.push(await newRuntime()), made.at(-1)!),
    tuneCache: memoryCache(),
  };
  const own = await openScorer({ checkpoint: 'tiny.npz' }, platform);
  await own.score(syntheticImage(64, 48));
  own.dispose();
  assert.is(made.length, 2, 'its device and the helper');
  const given = await openScorer({ checkpoint: 'tiny.npz', runtime: rt }, { ...platform, tuneCache: memoryCache() });
  await given.score(syntheticImage(64, 48));
  given.dispose();
  assert.is(made.length, 2, 'no device made for a scorer on a given runtime');
});

test('lavapipe: the fast-running tier is compiled on a second device, without promoting the adapter meanwhile', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const { made, factory } = recordingFactory();
  const cache = memoryCache();
  const ahead = compilePromotedAhead(rt, factory, dims, cache);
  assert.ok(compilingAhead(), 'a helper at work is reported (the CLI says why it has not exited)');
  assert.is(await ahead, true, 'resolves to true: the kernels ran there');
  assert.not.ok(compilingAhead());
  assert.is(made.length, 1);
  // The helper runs the promoted tier's attention kernel (under Dawn the first tier's own since the
  // looped kernel reads a texture: a cache hit) and, where the subgroup kernel runs, times both
  // matmul tiles, in turns (matmul.ts, tuneMatmulTile): the tiers differ in the tile.
  const labels = made[0].labels.map((l) => l.split(' ')[0]);
  assert.is(labels[0], `attention/${attentionVariants(rt)[0]}`);
  const tiles = matmulVariant(rt, 256, 384, 1152) === 'subgroup';
  assert.equal([...new Set(labels.slice(1))], tiles ? ['matmul_subgroup', 'matmul_subgroup64'] : []);
  assert.equal([...cache.store.keys()].map((k) => k.split('|')[0]), tiles ? ['matmul-tile/1'] : []);
  setMatmulTile(rt, undefined);
  assert.ok(made[0].destroyed);
  assert.not.ok(isPromoted(rt), 'still on the first tier: the scorer switches itself');
  assert.is(compilePromotedAhead(rt, undefined, dims), undefined, 'no second device: promote at once');
});

test('lavapipe: a scorer switches to the fast-running tier between two images, once the second device compiled it (after promoteAfter() images)', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const bytes = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 });
  const { made, factory } = recordingFactory();
  const cache = memoryCache();
  const scorer = await openScorer({ checkpoint: 'tiny.npz' }, { source: async () => bytesSource('tiny.npz', bytes), downloads: () => false, newRuntime: factory, tuneCache: cache });
  try {
    const img = syntheticImage(32, 32);
    for (let i = 0; i < promoteAfter(rt).images; i++) await scorer.score(img);
    // made[0]: the scorer's own device; made[1]: compile-ahead's helper; made[2]: the promotion's.
    assert.is(made.length, 3, 'a second device was started for the promotion');
    assert.not.ok(isPromoted(rt), 'not promoted while it compiles');
    await made[2].gone;
    await new Promise((r) => setTimeout(r, 0)); // the helper's promise settles just after its device goes
    assert.not.ok(isPromoted(rt), 'nor in the middle of a run of images');
    const remembered = () => [...cache.store.entries()].some(([k, v]) => k.startsWith('tier/') && v === 'promoted');
    assert.ok(remembered(), 'remembered once the helper ran the kernels, before any further image (a run may end here)');
    await scorer.score(img);
    assert.ok(isPromoted(rt), 'promoted at the next image');
    // The helper timed the matmul tiles too: the promoted tier runs the faster, remembered.
    const tile = [...cache.store.entries()].find(([k]) => k.startsWith('matmul-tile/'))?.[1];
    if (tile === undefined) assert.is.not(matmulVariant(rt, 256, 384, 1152), 'subgroup', 'timed wherever the subgroup kernel runs');
    else assert.is(matmulVariant(rt, 919, 384, 1152), tile === '64' ? 'subgroup64' : 'subgroup');
  } finally {
    scorer.dispose();
    demote(rt);
    setMatmulTile(rt, undefined);
  }
});

test('lavapipe: a run that has spent promoteAfter().ms scoring promotes at its next image, however few images it scored', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const { images, ms } = promoteAfter(rt);
  assert.ok(images > 2, 'the count alone would not promote at the second image');
  assert.not.ok(provenLong(rt, 1, ms - 1));
  assert.ok(provenLong(rt, 1, ms), 'time spent proves a run long');
  assert.ok(provenLong(rt, images - 1, 0), 'and so does the count');
  const bytes = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 });
  const { made, factory } = recordingFactory();
  const scorer = await openScorer({ checkpoint: 'tiny.npz' }, { source: async () => bytesSource('tiny.npz', bytes), downloads: () => false, newRuntime: factory, tuneCache: memoryCache() });
  // The first image appears to take as long as promoteAfter().ms: every clock reading jumps by it.
  const clock = Object.getOwnPropertyDescriptor(performance, 'now'); // undefined where now() is the prototype's
  const now = performance.now.bind(performance);
  let skew = 0;
  Object.defineProperty(performance, 'now', { configurable: true, value: () => now() + (skew += ms) });
  const realClock = () => (clock ? Object.defineProperty(performance, 'now', clock) : delete (performance as { now?: unknown }).now);
  try {
    const img = syntheticImage(32, 32);
    await scorer.score(img);
    realClock();
    assert.is(made.length, 2, 'no promotion after one image: the scorer and compile-ahead devices only');
    await scorer.score(img);
    assert.is(made.length, 3, 'the second image started the promotion');
    await made[2].gone;
  } finally {
    realClock();
    scorer.dispose();
    demote(rt);
    setMatmulTile(rt, undefined);
  }
});

test('lavapipe: time spent on the first tier adds up over processes (a shell loop over files is promoted too)', async () => {
  const rt = await lavapipe();
  if (!rt) return;
  const { ms } = promoteAfter(rt);
  const bytes = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 });
  const cache = memoryCache();
  const spent = () => Number([...cache.store.entries()].find(([k]) => k.startsWith('tier-spent/'))?.[1]);
  const open = (factory: () => Promise<Runtime>) => openScorer({ checkpoint: 'tiny.npz' }, { source: async () => bytesSource('tiny.npz', bytes), downloads: () => false, newRuntime: factory, tuneCache: cache });
  const img = syntheticImage(32, 32);
  try {
    // One process, one image: its time is recorded.
    const first = recordingFactory();
    const one = await open(first.factory);
    await one.score(img);
    one.dispose();
    assert.ok(spent() > 0, 'the image\'s time is in the cache');
    assert.is(first.made.length, 2, 'no promotion');
    // Later processes: earlier ones' time counts, so one that finds nearly promoteAfter().ms promotes at its second image.
    cache.store.set([...cache.store.keys()].find((k) => k.startsWith('tier-spent/'))!, String(ms - 1));
    const later = recordingFactory();
    const two = await open(later.factory);
    await two.score(img);
    assert.ok(spent() >= ms, 'this process\'s time is added to the earlier ones\'');
    const devices = later.made.length; // the scorer's (the first process noted the attention kernel compiled: no helper)
    await two.score(img);
    assert.is(later.made.length, devices + 1, 'the second image started the promotion');
    await later.made.at(-1)!.gone;
    two.dispose();
  } finally {
    demote(rt);
    setMatmulTile(rt, undefined);
  }
});

test('forward() awaits beforeStem before anything, and beforeAttention after the stem, the embedding and the first projection, before any attention', async () => {
  const rt = await gpu();
  const ckpt = await openCheckpoint(bytesSource('tiny.npz', writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 })));
  const model = await MusiqModel.load(rt, ckpt);
  const labels: string[] = [];
  const dispatch = rt.dispatch.bind(rt);
  rt.dispatch = (d: Dispatch) => {
    labels.push((d.label ?? d.kernel).split(' ')[0]);
    dispatch(d);
  };
  let seenAtWait: string[] | undefined;
  let seenAtStemWait: string[] | undefined;
  // A thenable: `await` calls then(), so the call records what had been dispatched at that moment.
  const gate = { then: (resolve: () => void) => ((seenAtWait = [...labels]), resolve()) } as unknown as Promise<void>;
  const stemGate = { then: (resolve: () => void) => ((seenAtStemWait = [...labels]), resolve()) } as unknown as Promise<void>;
  try {
    await model.forward(preprocess(syntheticImage(64, 48)), { beforeStem: stemGate, beforeAttention: gate });
  } finally {
    delete (rt as { dispatch?: unknown }).dispatch; // the prototype's again
    model.dispose();
  }
  assert.equal(seenAtStemWait, [], 'forward() awaited beforeStem before its first dispatch');
  assert.ok(seenAtWait, 'forward() awaited beforeAttention');
  const before = seenAtWait.join(', ');
  // What runs (and on lavapipe compiles) while the kernel compiled ahead is awaited.
  for (const k of ['conv2d', 'embed', 'layernorm', 'matmul']) assert.ok(seenAtWait.some((l) => l.startsWith(k)), `${k} ran before the wait: ${before}`);
  assert.not.ok(seenAtWait.some((l) => l.startsWith('attention')), `no attention before the wait: ${before}`);
  assert.is(seenAtWait.filter((l) => l.startsWith('layernorm')).length, 1, `only the first block's LayerNorm before the wait: ${before}`);
  assert.ok(labels.some((l) => l.startsWith('attention')), 'the encoder ran after it');
});


test('prepareAttention compiles the very pipeline attention() dispatches: no second compile, for every variant offered', async () => {
  const rt = await newRuntime();
  try {
    const variants = attentionVariants(rt);
    for (const variant of variants) await prepareAttention(rt, variant, 16);
    let created = 0;
    const device = rt.device;
    const create = device.createComputePipeline.bind(device);
    device.createComputePipeline = (d: GPUComputePipelineDescriptor) => (created++, create(d));
    for (const variant of variants) await rt.read(attention(rt, rt.zeros([8, 3 * 2 * 16]), { heads: 2, headDim: 16, variant }));
    assert.is(created, 0, `prepared: ${variants.join(', ')}`);
    // The tiled kernel takes the head dim as an override: another head dim is another pipeline.
    await rt.read(attention(rt, rt.zeros([8, 3 * 2 * 32]), { heads: 2, headDim: 32, variant: 'tiled' }));
    assert.is(created, 1, 'a pipeline not prepared is compiled at its dispatch');
  } finally {
    rt.destroy();
  }
});

test('compileWhileLoading: SwiftShader compiles the stem\'s kernels (a stem on a zero patch) and the encoder\'s small ones (a zero token) without blocking, then the attention kernel of its first image, and never fails; other adapters nothing', async () => {
  for (const architecture of ['software', 'ampere', '']) {
    assert.is(compileWhileLoading({ adapter: { architecture } } as unknown as Runtime), undefined, architecture);
  }
  const rt = await newRuntime();
  try {
    Object.defineProperty(rt, 'adapter', { value: { ...rt.adapter, architecture: 'swiftshader' } });
    const asked: string[] = [], dispatched: string[] = [];
    rt.preparePipeline = async (kernel: string) => void asked.push(kernel);
    const dispatch = rt.dispatch.bind(rt);
    rt.dispatch = (d) => (dispatched.push(`${d.kernel}${asked.length ? ' after the attention compile' : ''}`), dispatch(d));
    let syncCreates = 0;
    const create = rt.device.createComputePipeline.bind(rt.device);
    rt.device.createComputePipeline = (d: GPUComputePipelineDescriptor) => (syncCreates++, create(d));
    const compiling = compileWhileLoading(rt)!;
    assert.is(syncCreates, 0, 'no pipeline created synchronously: the compiles do not block the caller (or a browser\'s GPU process)');
    await compiling.stem;
    await compiling.attention;
    assert.equal(asked, [attentionVariant(rt) === 'tiled' ? 'attention' : `attention_${attentionVariant(rt)}`]);
    // The stem's kernels are dispatched (so compiled) before the attention compile is asked for:
    // SwiftShader compiles one pipeline at a time, and the first image's stem comes first.
    const stemKernels = [...new Set(dispatched)];
    for (const k of ['conv2d', 'groupnorm', 'matmul']) assert.ok(stemKernels.some((d) => d.startsWith(k) && !d.includes('after')), `${k}: ${stemKernels.join(', ')}`);
    // So are the encoder's other kernels: created in the first image, they waited for that compile.
    for (const k of ['embed', 'layernorm', 'matmul_naive', 'softmax']) assert.ok(stemKernels.some((d) => d.startsWith(k)), `${k}: ${stemKernels.join(', ')}`);
    assert.ok(dispatched.every((d) => !d.includes('after')), dispatched.join(', '));
    rt.preparePipeline = () => Promise.reject(new Error('compile failed'));
    assert.is(await compileWhileLoading(rt)!.attention, undefined, 'a failed compile resolves: attention() compiles and reports it');
  } finally {
    rt.destroy();
  }
});

test('openScorer (engine gpu): a download makes the device and starts that compile first; a file is read first and compiles once its weights are up; a failed read leaves no device; engine auto compiles nothing there', async () => {
  const bytes = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1, seed: 5 });
  const events: string[] = [];
  const made: Runtime[] = [];
  const platform = {
    source: async () => (events.push('source'), bytesSource('tiny.npz', bytes)),
    downloads: () => true,
    newRuntime: async () => {
      const rt = await newRuntime();
      Object.defineProperty(rt, 'adapter', { value: { ...rt.adapter, architecture: 'swiftshader' } });
      rt.preparePipeline = async () => void events.push('prepare');
      const destroy = rt.destroy.bind(rt);
      rt.destroy = () => (events.push('destroy'), destroy());
      made.push(rt);
      return rt;
    },
    tuneCache: memoryCache(),
  };
  const scorer = await openScorer({ checkpoint: 'tiny.npz', engine: 'gpu' }, platform);
  scorer.dispose();
  assert.equal(events, ['prepare', 'source', 'destroy']);
  events.length = 0;
  // The default engine on SwiftShader is the CPU's: no kernel to compile while downloading.
  const cpu = await openScorer({ checkpoint: 'tiny.npz' }, platform);
  assert.is(cpu.engine, 'cpu');
  cpu.dispose();
  assert.equal(events, ['source', 'destroy']);
  made.pop(); // not one of the devices counted below
  events.length = 0;
  const failing = { ...platform, source: () => Promise.reject(new Error('tiny.npz: download failed')) };
  await openScorer({ checkpoint: 'tiny.npz', engine: 'gpu' }, failing).then(
    () => assert.unreachable('the read failed'),
    (e: Error) => assert.match(e.message, 'download failed'),
  );
  assert.is(made.length, 2);
  assert.equal(events, ['prepare', 'destroy'], 'the device made for the failed download is destroyed');
  events.length = 0;
  const file = { ...platform, downloads: () => false };
  const uploaded = ({ done, total }: { done: number; total: number }) => done === total && events.push('uploaded');
  (await openScorer({ checkpoint: 'tiny.npz', engine: 'gpu', onProgress: uploaded }, file)).dispose();
  // No download to compile during: the compile starts when createScorer returns, before any image.
  assert.equal(events, ['source', 'uploaded', 'prepare', 'destroy'], 'a file: read before the device is made, compiled after the upload');
  await openScorer({ checkpoint: 'tiny.npz', engine: 'gpu' }, { ...file, source: () => Promise.reject(new Error('tiny.npz: no such file')) }).catch(() => undefined);
  assert.is(made.length, 3, 'no device made for a file that cannot be read');
});

test('isDownload: http(s) strings and URLs; in a browser also URLs without a scheme; never paths, bytes or file URLs', () => {
  assert.ok(isDownload('https://storage.googleapis.com/gresearch/musiq/koniq_ckpt.npz'));
  assert.ok(isDownload(new URL('http://127.0.0.1:8080/x.npz')));
  assert.not.ok(isDownload('models/koniq.npz'));
  assert.ok(isDownload('models/koniq.npz', true));
  assert.ok(isDownload('/bench/full.npz', true));
  for (const local of ['file:///tmp/x.npz', 'blob:https://a/b', 'data:,x']) assert.not.ok(isDownload(local, true), local);
  assert.not.ok(isDownload(new Uint8Array(4), true));
});

test.run();
