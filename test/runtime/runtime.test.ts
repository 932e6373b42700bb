import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { skip } from '../skip.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gpu } from '../gpu.ts';
import { GpuError } from '../../src/runtime/errors.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import { openDevice } from '../../src/runtime/device.ts';
import { createNodeRuntime } from '../../src/runtime/gpu.node.ts';
import { axpby } from '../../src/kernels/elementwise.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { toF16 } from '../../src/runtime/f16.ts';

test('adapter is real: not the null backend, has a description', async () => {
  const rt = await gpu();
  assert.ok(rt.adapterName.length > 0);
  assert.is.not(rt.adapter.device, 'null-backend');
});

/** rt.sync() rejects with a GpuError whose message names `label`. */
async function syncThrowsGpuError(rt: Runtime, label: string): Promise<void> {
  try {
    await rt.sync();
  } catch (e) {
    assert.instance(e, GpuError);
    assert.match((e as Error).message, label);
    return;
  }
  assert.unreachable('expected a GpuError');
}

test('a bad binding becomes a thrown GpuError naming the kernel', async () => {
  const rt = await gpu();
  const a = rt.upload(new Float32Array(4));
  // elementwise.wgsl wants 3 storage buffers; giving 2 cannot match its layout.
  rt.dispatch({ kernel: 'elementwise', uniforms: new Uint32Array(4), buffers: [a, a], workgroups: [1], label: 'elementwise-missing-binding' });
  await syncThrowsGpuError(rt, 'elementwise-missing-binding');
  // The runtime stays usable after a reported error.
  const b = rt.upload(new Float32Array([1, 2, 3]));
  assert.equal([...(await rt.read(b))], [1, 2, 3]);
});

test('readAll reads several tensors of any dtype in one submit; done() resolves once the GPU ran what was encoded', async () => {
  const rt = await gpu();
  const f = rt.upload(new Float32Array([1.5, -2, 3.25]));
  const u = rt.upload(new Uint32Array([7, 4294967295]), [2], 'u32');
  const y = rt.empty([3]);
  axpby(rt, f, f, 2, -1, y); // y = 2f - f = f, computed on the GPU
  const before = performance.now();
  const done = await rt.done();
  assert.ok(done >= before, 'done() resolves with the time the work finished');
  const device = rt.device as GPUDevice;
  let submits = 0;
  const submit = device.queue.submit.bind(device.queue);
  device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => void (submits++, submit(buffers));
  try {
    const [a, b, c] = await rt.readAll([f, u, y]);
    assert.equal([...a], [1.5, -2, 3.25]);
    assert.ok(b instanceof Uint32Array);
    assert.equal([...b], [7, 4294967295]);
    assert.equal([...c], [1.5, -2, 3.25]);
  } finally {
    device.queue.submit = submit;
  }
  assert.is(submits, 1, 'one submit for the three copies');
  // A kernel's error still surfaces at the readback that follows done().
  rt.dispatch({ kernel: 'elementwise', uniforms: new Uint32Array(4), buffers: [f, f], workgroups: [1], label: 'elementwise-after-done' });
  await rt.done();
  try {
    await rt.readAll([f]);
    assert.unreachable('the bad dispatch should have been reported');
  } catch (e) {
    assert.ok(e instanceof GpuError && /elementwise-after-done/.test((e as Error).message), String(e));
  }
});

test('a WGSL compile error is reported with the kernel name', async () => {
  const rt = await gpu();
  const a = rt.upload(new Float32Array(4));
  rt.dispatch({ kernel: 'elementwise', entry: 'no_such_entry', buffers: [a], workgroups: [1] });
  await syncThrowsGpuError(rt, 'elementwise');
});

test('compileOnly: dispatches become compiles, each pipeline once, that later dispatches reuse; a failed compile resolves and the dispatch reports it', async () => {
  const rt = await createNodeRuntime(); // its own pipeline cache
  try {
    const created = { sync: 0, async: 0 };
    const device = rt.device;
    const create = device.createComputePipeline.bind(device);
    const createAsync = device.createComputePipelineAsync.bind(device);
    device.createComputePipeline = (d: GPUComputePipelineDescriptor) => (created.sync++, create(d));
    device.createComputePipelineAsync = (d: GPUComputePipelineDescriptor) => (created.async++, createAsync(d));
    const a = rt.upload(new Float32Array([1, 2, 3, 4]));
    const y = rt.upload(new Float32Array([7, 7, 7, 7]));
    const compiled = rt.compileOnly(() => {
      axpby(rt, a, a, 2, 1, y);
      axpby(rt, a, a, 3, 1, y);
    });
    assert.equal(created, { sync: 0, async: 1 }, 'two dispatches of one pipeline: one compile, not blocking');
    await compiled;
    assert.equal([...(await rt.read(y))], [7, 7, 7, 7], 'nothing ran');
    axpby(rt, a, a, 2, 1, y);
    assert.equal([...(await rt.read(y))], [3, 6, 9, 12]);
    assert.equal(created, { sync: 0, async: 1 }, 'the dispatch took the compiled pipeline');
    await rt.compileOnly(() => rt.dispatch({ kernel: 'elementwise', entry: 'no_such_entry', buffers: [a], workgroups: [1] }));
    rt.dispatch({ kernel: 'elementwise', entry: 'no_such_entry', buffers: [a], workgroups: [1] });
    await syncThrowsGpuError(rt, 'elementwise');
  } finally {
    rt.destroy();
  }
});

test('a freed buffer is never rewritten under a batch that still reads it', async () => {
  const rt = await gpu();
  const a = rt.upload(new Float32Array([1, 2, 3, 4]));
  const y = axpby(rt, a, a, 1, 1); // encoded, not submitted: reads `a` later
  a.dispose();
  // Same size bucket: the pool may hand `a`'s buffer out again only once the batch that reads it
  // is submitted (it then submits first), since writeBuffer runs before anything submitted later.
  const b = rt.upload(new Float32Array([100, 200, 300, 400]));
  assert.equal([...(await rt.read(y))], [2, 4, 6, 8]);
  assert.equal([...(await rt.read(b))], [100, 200, 300, 400]);
  y.dispose();
  b.dispose();
});

test('uniform buffers never come back as storage tensors', async () => {
  const rt = await gpu();
  const a = rt.upload(new Float32Array(16384).fill(1)); // 64 KiB: the uniform chunk's size
  axpby(rt, a, a, 1, 1).dispose();
  rt.flush();
  const b = rt.empty([16384]); // same bucket as the released uniform chunk
  const y = axpby(rt, a, a, 2, 0, b);
  assert.is((await rt.read(y))[16383], 2);
});

test('openDevice without WebGPU says what to install', async () => {
  try {
    await openDevice(undefined);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, 'mesa-vulkan-drivers');
  }
  const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
  try {
    await openDevice(fakeGpu);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, 'no WebGPU adapter');
  }
});

test('profile mode times every dispatch with its label', async () => {
  const rt = await createNodeRuntime({ profile: true });
  try {
    if (!rt.profiling) return skip('timestamp-query', `${rt.adapterName} has no timestamp-query`);
    const a = rt.upload(new Float32Array(1000).fill(1));
    axpby(rt, a, a, 1, 1);
    rt.dispatch({ kernel: 'elementwise', uniforms: new Uint32Array([1000, 0, 0, 0]), buffers: [a, a, rt.empty([1000])], workgroups: [4], label: 'second' });
    await rt.sync();
    const t = await rt.timings();
    assert.equal(t.map((x) => x.label), ['elementwise', 'second']);
    assert.ok(t.every((x) => Number.isFinite(x.ms) && x.ms >= 0), JSON.stringify(t));
    assert.equal(await rt.timings(), [], 'timings are consumed');
  } finally {
    rt.destroy();
  }
});

test("Dawn's null backend is refused: it looks like an adapter but runs nothing", async () => {
  const { create } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU };
  try {
    await openDevice(create(['backend=null']));
    assert.unreachable('null backend accepted');
  } catch (e) {
    assert.match((e as Error).message, /null backend/);
  }
});

test('a script that uses the runtime exits promptly after its work', () => {
  const script = fileURLToPath(new URL('../fixtures/exit-promptly.ts', import.meta.url));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
  const total = Date.now() - t0;
  assert.is(r.status, 0, r.stderr);
  const workDoneAt = Number(/done at (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(Number.isFinite(workDoneAt), r.stdout);
  const lag = t0 + total - workDoneAt;
  assert.ok(lag < 2000, `process lingered ${lag} ms after its work`);
});

test('textureOf copies f32 and f16 tensors, and names what it cannot copy', async () => {
  const rt = await gpu();
  const f32 = rt.upload(new Float32Array(8), [8]);
  const f16 = rt.upload(toF16(new Float32Array(8)), [8], 'f16');
  const u32 = rt.upload(new Uint32Array(8), [8], 'u32');
  const odd = rt.upload(new Float32Array(6), [6]);
  try {
    assert.throws(() => rt.textureOf(u32, 16), (e: Error) => e instanceof MusiqError && /f32 or f16 values in whole texels, got u32/.test(e.message));
    assert.throws(() => rt.textureOf(odd, 16), (e: Error) => e instanceof MusiqError && /whole texels, got f32 × 6/.test(e.message));
    // A texture row must be a multiple of 256 bytes: 16 rgba32float texels, 32 rgba16float ones.
    assert.ok(rt.textureOf(f32, 16));
    assert.throws(() => rt.textureOf(f16, 16), (e: Error) => e instanceof MusiqError && /multiple of 32 texels/.test(e.message));
    assert.ok(rt.textureOf(f16, 32));
    await rt.sync();
  } finally {
    for (const t of [f32, f16, u32, odd]) t.dispose();
  }
});

test.run();
