// `musiq inspect <checkpoint.npz> [--json]`: what a checkpoint holds, from its headers only
// (no tensor data is read, so it is instant on a 155 MB file).
import { openCheckpoint, type Checkpoint } from '../src/musiq/checkpoint.ts';
import { fileSource } from '../src/npz/source.node.ts';
import { MusiqError } from '../src/common/errors.ts';

const USAGE = 'usage: musiq inspect <checkpoint.npz> [--json]';

export async function main(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const files = args.filter((a) => a !== '--json');
  if (files.length !== 1 || files[0].startsWith('-')) {
    console.error(files.length ? `musiq inspect: unexpected argument "${files.find((f) => f.startsWith('-')) ?? files[1]}"\n${USAGE}` : USAGE);
    return 1;
  }
  let ckpt: Checkpoint;
  try {
    const source = await fileSource(files[0]);
    try {
      ckpt = await openCheckpoint(source);
    } finally {
      await source.close?.();
    }
  } catch (e) {
    if (!(e instanceof MusiqError)) throw e;
    console.error(`musiq inspect: ${e.message}`);
    return 1;
  }
  console.log(json ? JSON.stringify(describe(ckpt)) : table(ckpt, files[0]));
  return 0;
}

function describe(c: Checkpoint) {
  return {
    variant: c.variant,
    numClasses: c.dims.numClasses,
    parameters: c.parameters,
    bytes: c.bytes,
    fileBytes: c.npz.source.size,
    precision: c.precision,
    ...(c.provenance ? { convertedFrom: c.provenance.source } : {}),
    dims: c.dims,
    tensors: c.tensors.map((t) => ({ name: t.name, dtype: t.descr, shape: t.shape })),
    ignored: c.ignored,
  };
}

function table(c: Checkpoint, file: string): string {
  const d = c.dims;
  const n = (x: number) => x.toLocaleString('en-US');
  const rows = c.tensors.map((t) => [t.name, t.descr + (t.fortranOrder ? ' (F)' : ''), `(${t.shape.join(', ')}${t.shape.length === 1 ? ',' : ''})`]);
  const w = [Math.max(4, ...rows.map((r) => r[0].length)), Math.max(5, ...rows.map((r) => r[1].length))];
  const line = (r: string[]) => `  ${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`;
  const notes = [...new Set(c.tensors.flatMap((t) => (t.note ? [t.note] : [])))];
  return [
    `${file}: MUSIQ checkpoint, variant ${c.variant} (${d.numClasses} output${d.numClasses > 1 ? 's' : ''})`,
    `dims: hidden ${d.hidden}, layers ${d.layers}, heads ${d.heads} × ${d.headDim}, MLP ${d.mlp}, stem width ${d.stemWidth}, scales ${d.numScales}, position grid ${d.posGrid}×${d.posGrid}${d.preLogits ? `, pre-logits ${d.preLogits}` : ''}`,
    `parameters: ${n(c.parameters)} in ${c.tensors.length} tensors (${n(c.bytes)} bytes; file ${n(c.npz.source.size)} bytes)`,
    `precision: ${c.precision}${c.provenance ? ` (musiq convert, from ${c.provenance.source.name}, ${n(c.provenance.source.bytes)} bytes, sha256 ${c.provenance.source.sha256})` : ''}`,
    ...notes.map((x) => `note: ${x}`),
    `ignored: ${c.ignored.length} member${c.ignored.length === 1 ? '' : 's'} outside opt/target/${c.ignored.length ? ` (${c.ignored.slice(0, 3).join(', ')}${c.ignored.length > 3 ? ', …' : ''})` : ''}`,
    '',
    line(['name', 'dtype', 'shape']),
    ...rows.map(line),
  ].join('\n');
}
