// `musiq convert --weights f16|int8 <in.npz> <out.npz>`: a smaller checkpoint for web apps, in
// the layout src/musiq/quantize.ts describes. It streams: one tensor is in memory at a time, and
// the output is written to a temporary name beside it and renamed only when complete, so a
// failure or a kill never leaves a partial file under the output's name.
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { openCheckpoint, type Checkpoint } from '../src/musiq/checkpoint.ts';
import { CONVERT_FORMAT, CONVERT_MEMBER, SCALE_PREFIX, isConvertedKernel, quantizeInt8, scaleShape, type Provenance } from '../src/musiq/quantize.ts';
import { fileSource } from '../src/npz/source.node.ts';
import type { ByteSource } from '../src/npz/source.ts';
import { NpzStream, type NpyMember } from '../src/npz/writer.ts';
import { toF16 } from '../src/runtime/f16.ts';
import { MusiqError } from '../src/common/errors.ts';
import { mib, progressBar } from './progress.ts';

const USAGE = `usage: musiq convert --weights f16|int8 [--force] <in.npz> <out.npz>

  --weights f16    kernels as float16 (0.50x the size; scores moved by up to 4e-4 in our tests)
  --weights int8   kernels as int8 with per-output-channel float32 scales (0.26x; scores moved
                   by up to 1.2e-2 relative in our tests)
  --force          overwrite <out.npz> if it exists

Norms, biases, embeddings and the head stay float32; members outside opt/target/ (optimizer
state) are not written. Every parameter keeps its key, so np.load reads the file.`;

const F16_MAX = 65504;
const PREFIX = 'opt/target/';

export interface ConvertResult {
  bytes: number;
  sourceBytes: number;
  precision: 'f16' | 'int8';
  dropped: number;
}

/** The file being written, removed if the CLI is interrupted (Ctrl-C, kill) before renaming it. */
let pendingTemp: string | undefined;

function removeTempAndExit(signal: NodeJS.Signals): void {
  if (pendingTemp) rmSync(pendingTemp, { force: true });
  console.error(`musiq convert: interrupted (${signal})${pendingTemp ? '; the partial output was removed' : ''}`);
  process.exit(130);
}

export async function main(args: string[]): Promise<number> {
  let precision: string | undefined;
  let force = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return 0;
    } else if (a === '--weights') precision = args[++i];
    else if (a.startsWith('--weights=')) precision = a.slice('--weights='.length);
    else if (a === '--force') force = true;
    else if (a.startsWith('-')) return usage(`unexpected option "${a}"`);
    else files.push(a);
  }
  if (precision !== 'f16' && precision !== 'int8') return usage(precision === undefined ? '--weights f16|int8 is required' : `--weights must be f16 or int8, not "${precision}"`);
  if (files.length !== 2) return usage(`expected <in.npz> <out.npz>, got ${files.length} file${files.length === 1 ? '' : 's'}`);
  const t0 = performance.now();
  process.once('SIGINT', removeTempAndExit).once('SIGTERM', removeTempAndExit);
  try {
    const r = await convertCheckpoint(files[0], files[1], precision, { force, progress: true });
    const ratio = (r.bytes / r.sourceBytes).toFixed(3);
    console.log(`${files[1]}: ${precision}, ${mib(r.bytes)} (${ratio}x of ${mib(r.sourceBytes)})${r.dropped ? `; ${r.dropped} members outside opt/target/ not written` : ''}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    if (!(e instanceof MusiqError)) throw e;
    console.error(`musiq convert: ${e.message}`);
    return 1;
  }
}

function usage(problem: string): number {
  console.error(`musiq convert: ${problem}\n${USAGE}`);
  return 1;
}

/** Converts `input` to `output`; throws MusiqError (and leaves no output) on any problem. */
export async function convertCheckpoint(input: string, output: string, precision: 'f16' | 'int8', options: { force?: boolean; progress?: boolean } = {}): Promise<ConvertResult> {
  if (resolve(input) === resolve(output)) throw new MusiqError(`${output}: the output must not be the input file`);
  if (existsSync(output) && !options.force) throw new MusiqError(`${output}: already exists (--force overwrites it)`);
  const source = await fileSource(input);
  try {
    const ckpt = await openCheckpoint(source);
    if (ckpt.provenance) {
      const p = ckpt.provenance;
      throw new MusiqError(`${input}: already converted (${p.precision}, from ${p.source.name}); convert the original float32 checkpoint instead`);
    }
    if (ckpt.precision !== 'f32') throw new MusiqError(`${input}: already holds ${ckpt.precision} kernels; convert the original float32 checkpoint instead`);
    const bar = options.progress ? progressBar(`converting ${basename(input)}`) : undefined;
    const sha256 = await hashSource(source, (n) => bar?.update(n, source.size * 2, 'sha256'));
    // Optimizer state and the like; a quality head's unused pre_logits are still parameters and are kept.
    const dropped = ckpt.ignored.filter((n) => !n.startsWith(PREFIX)).length;
    const provenance: Provenance = {
      format: CONVERT_FORMAT,
      precision,
      source: { name: basename(input), sha256, bytes: source.size },
      dropped,
      tool: 'musiq-webgpu musiq convert',
    };
    const temp = join(dirname(resolve(output)), `.${basename(output)}.${process.pid}.tmp`);
    pendingTemp = temp;
    const handle = await open(temp, 'wx').catch((e: Error) => {
      throw new MusiqError(`${output}: cannot write next to it (${e.message})`);
    });
    let bytes = 0;
    try {
      const zip = new NpzStream();
      const write = async (chunks: Uint8Array[]) => {
        for (const c of chunks) bytes += (await handle.write(c)).bytesWritten;
      };
      let done = 0;
      for (const member of ckpt.npz.members) {
        if (!member.name.startsWith(PREFIX)) continue;
        for (const m of await convertMember(ckpt, member.name.slice(PREFIX.length), precision)) await write(zip.member(m));
        bar?.update(source.size + (source.size * ++done) / ckpt.tensors.length, source.size * 2, member.name);
      }
      await write(zip.member(bytesMember(CONVERT_MEMBER, new TextEncoder().encode(JSON.stringify(provenance)))));
      await write(zip.end());
      await handle.sync();
      await handle.close();
      await rename(temp, output);
    } catch (e) {
      await handle.close().catch(() => undefined);
      rmSync(temp, { force: true });
      if (e instanceof MusiqError) throw e;
      throw new MusiqError(`${output}: writing failed (${(e as Error).message})`);
    } finally {
      pendingTemp = undefined;
      bar?.done();
    }
    return { bytes, sourceBytes: source.size, precision, dropped };
  } finally {
    await source.close?.();
  }
}

/** The member(s) that replace one parameter: itself (maybe smaller) and, for int8, its scales. */
async function convertMember(ckpt: Checkpoint, key: string, precision: 'f16' | 'int8'): Promise<NpyMember[]> {
  const name = PREFIX + key;
  const values = await ckpt.npz.readF32(name);
  const shape = ckpt.npz.get(name)!.shape;
  if (!isConvertedKernel(key)) return [floatMember(name, shape, values)];
  const bad = values.findIndex((v) => !Number.isFinite(v) || (precision === 'f16' && Math.abs(v) > F16_MAX));
  if (bad >= 0) {
    throw new MusiqError(`${ckpt.name}: member ${name} holds ${values[bad]} at ${bad}, which ${precision} cannot store`);
  }
  if (precision === 'f16') {
    const bits = toF16(values);
    return [{ name, descr: '<f2', shape, byteLength: bits.byteLength, data: () => new Uint8Array(bits.buffer) }];
  }
  const sShape = scaleShape(key, shape);
  const { q, scale } = quantizeInt8(values, sShape.reduce((a, b) => a * b, 1));
  return [
    { name, descr: '|i1', shape, byteLength: q.byteLength, data: () => new Uint8Array(q.buffer) },
    floatMember(SCALE_PREFIX + key, sShape, scale),
  ];
}

function floatMember(name: string, shape: number[], values: Float32Array): NpyMember {
  // readF32 may return a view into a bigger buffer: write exactly the array's bytes.
  const data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { name, descr: '<f4', shape, byteLength: data.byteLength, data: () => data };
}

function bytesMember(name: string, bytes: Uint8Array): NpyMember {
  return { name, descr: '|u1', shape: [bytes.length], byteLength: bytes.length, data: () => bytes };
}

/** sha256 of the whole source, read sequentially in 4 MiB pieces. */
async function hashSource(source: ByteSource, onProgress?: (done: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const piece = 4 << 20;
  for (let at = 0; at < source.size; at += piece) {
    hash.update(await source.read(at, Math.min(piece, source.size - at)));
    onProgress?.(at);
  }
  return hash.digest('hex');
}
