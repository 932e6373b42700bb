// `musiq score [options] <image|dir>...`
import { readFile } from 'node:fs/promises';
import { createScorer, decodeImage, resolveModel, MODEL_NAMES, type RgbImage, type Scorer, type ScoreResult } from '../src/index.node.ts';
import { MusiqError } from '../src/common/errors.ts';
import { compilingAhead } from '../src/musiq/compile-ahead.ts';
import { batchProgress, progressBar, mib } from './progress.ts';
import { fsMessage, isFsError, listInputs, parseShard, shardOf, sortInputs, type Input } from './inputs.ts';
import { CSV_HEADER, csvLine, formatOf, openResultFile, type OutFormat, type ResultFile, type ResultRow } from './result-file.ts';
import { openEmbeddingsFile, type EmbeddingsFile } from './embeddings-file.ts';

const HELP = `usage: musiq score [options] <image|dir>...

Scores PNG and JPEG images with MUSIQ. Directories are walked (image files only); the list is
sorted by path.

options:
  --model <name>          ${MODEL_NAMES.join('|')} (default koniq); looked up in $MUSIQ_HOME
                          (default ~/.cache/musiq) and downloaded once when absent
  --checkpoint <file.npz> use this checkpoint file instead of a named model
  --base-url <url>        where named models are downloaded from (default: the original bucket;
                          also $MUSIQ_BASE_URL)
  --out <file>            write rows as they come, one per image, flushed to disk (.jsonl or .csv);
                          an existing file is resumed: images already in it are skipped
  --embeddings <file.npy> also write the CLS embeddings, float32 [rows, hidden], row i for output
                          row i (NaN for an error row); resumed along with --out
  --shard K/N             score only the K-th of N disjoint slices of the sorted list (1-based)
  --weights f32|f16       f16: keep the big matmul weights as f16 on the GPU (half the memory,
                          needs shader-f16); scores move by ~2e-4, so keep one --out file to one
                          setting (default f32: exact; for a file from \`musiq convert --weights
                          f16\`, f16 where the adapter has shader-f16)
  --engine auto|gpu|cpu   where the model runs: the WebGPU adapter's kernels, or WebAssembly on
                          one CPU core (same scores within ~1e-6; default auto: the CPU where
                          the adapter is a CPU whose kernels run slower than that, as SwiftShader
                          or one without subgroups; the GPU elsewhere)
  --format table|json|jsonl|csv
                          output format (default: from --out's extension; on stdout table on a
                          terminal, json otherwise)
  --json                  same as --format json
  -h, --help              this text

Progress goes to stderr. Ctrl-C stops after the current image; with --out, run the same command
again to go on. Exit code 1 if any image could not be scored (its row carries the error).

environment: MUSIQ_HOME (checkpoint cache), MUSIQ_BASE_URL, MUSIQ_PROGRESS_MS (progress line
interval in a log), MUSIQ_DAWN_PACING=0 (let Dawn poll the GPU at full speed instead of pacing
its setImmediate ticks; see the README).`;

type Format = 'table' | 'json' | 'jsonl' | 'csv';

interface Args {
  model: string;
  checkpoint?: string;
  baseUrl?: string;
  format?: Format;
  out?: string;
  embeddings?: string;
  shard?: { k: number; n: number };
  weights?: 'f32' | 'f16';
  engine?: 'auto' | 'gpu' | 'cpu';
  paths: string[];
}

function parse(argv: string[]): Args {
  const a: Args = { model: 'koniq', paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new MusiqError(`musiq score: ${arg} needs a value`);
      return v;
    };
    if (arg === '--model') a.model = value();
    else if (arg === '--checkpoint') a.checkpoint = value();
    else if (arg === '--base-url') a.baseUrl = value();
    else if (arg === '--out') a.out = value();
    else if (arg === '--embeddings') a.embeddings = value();
    else if (arg === '--shard') a.shard = parseShard(value());
    else if (arg === '--weights') {
      const w = value();
      if (w !== 'f32' && w !== 'f16') throw new MusiqError(`musiq score: --weights must be f32 or f16, got "${w}"`);
      a.weights = w;
    }
    else if (arg === '--engine') {
      const e = value();
      if (e !== 'auto' && e !== 'gpu' && e !== 'cpu') throw new MusiqError(`musiq score: --engine must be auto, gpu or cpu, got "${e}"`);
      a.engine = e;
    } else if (arg === '--json') a.format = 'json';
    else if (arg === '--format') {
      const f = value();
      if (f !== 'table' && f !== 'json' && f !== 'jsonl' && f !== 'csv') throw new MusiqError(`musiq score: --format must be table, json, jsonl or csv, not "${f}"`);
      a.format = f;
    } else if (arg.startsWith('-')) throw new MusiqError(`musiq score: unknown option ${arg} (see --help)`);
    else a.paths.push(arg);
  }
  if (a.paths.length === 0) throw new MusiqError('musiq score: no image given (see --help)');
  if (a.embeddings && !a.out) throw new MusiqError('musiq score: --embeddings needs --out (its rows follow the result rows)');
  if (a.embeddings && !/\.npy$/i.test(a.embeddings)) throw new MusiqError(`musiq score: --embeddings writes a .npy file, not "${a.embeddings}"`);
  return a;
}

function outFormat(args: Args): OutFormat {
  const f = args.format ?? formatOf(args.out!);
  if (f === 'jsonl' || f === 'csv') return f;
  if (f === undefined) throw new MusiqError(`musiq score: cannot tell the format of --out ${args.out} (name it .jsonl or .csv, or give --format jsonl|csv)`);
  throw new MusiqError(`musiq score: --out writes jsonl or csv, not ${f}`);
}

function rowOf(path: string, r: ScoreResult): ResultRow {
  const row: ResultRow = { path, score: r.score, variant: r.variant, width: r.width, height: r.height, tokens: r.tokens, ms: Math.round(r.timings.total * 10) / 10 };
  if (r.distribution) row.distribution = r.distribution;
  if (r.top5) row.top5 = r.top5;
  return row;
}

function print(rows: ResultRow[], format: Format): void {
  if (format === 'json') return console.log(JSON.stringify(rows, null, 2));
  if (format === 'jsonl') return rows.forEach((r) => console.log(JSON.stringify(r)));
  if (format === 'csv') return [CSV_HEADER.join(','), ...rows.map(csvLine)].forEach((l) => console.log(l));
  const cells = rows.map((r) => [r.path, r.score?.toFixed(3) ?? 'NaN', r.variant ?? '', `${r.width}x${r.height}`, String(r.tokens), String(r.ms)]);
  const header = ['path', 'score', 'variant', 'size', 'tokens', 'ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.filter((_, j) => !rows[j].error).map((c) => c[i].length)));
  console.log(header.map((h, i) => h.padEnd(widths[i])).join('  '));
  rows.forEach((r, j) => console.log(r.error ? `${r.path.padEnd(widths[0])}  error: ${r.error}` : cells[j].map((v, i) => v.padEnd(widths[i])).join('  ')));
}

function oneLine(e: unknown): string {
  return isFsError(e) ? fsMessage(e) : String((e as Error).message).split('\n')[0];
}

type Loaded = { rgb: RgbImage } | { error: string };

/** Read and decode one image; runs while the GPU works on the previous one. */
async function load(input: Input): Promise<Loaded> {
  if (input.error) return { error: input.error };
  try {
    return { rgb: decodeImage(await readFile(input.path), input.path) };
  } catch (e) {
    if (e instanceof MusiqError || isFsError(e)) return { error: oneLine(e) };
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  let scorer: Scorer | undefined;
  let out: ResultFile | undefined;
  let emb: EmbeddingsFile | undefined;
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130); // a second Ctrl-C does not wait for the image
    stop = true;
    process.stderr.write('\nmusiq: stopping after the current image (Ctrl-C again to quit now)\n');
  };
  try {
    const args = parse(argv);
    const format = args.out ? outFormat(args) : args.format ?? (process.stdout.isTTY ? 'table' : 'json');
    let inputs = sortInputs(await listInputs(args.paths));
    if (inputs.length === 0) throw new MusiqError(`musiq score: no PNG or JPEG files in ${args.paths.join(', ')}`);
    if (args.shard) inputs = shardOf(inputs, args.shard);
    out = args.out ? openResultFile(args.out, format as OutFormat) : undefined;
    if (out?.dropped) process.stderr.write(`musiq: ${args.out}: dropped a torn last line (${out.dropped} bytes); that image is scored again\n`);
    const done = new Set(out?.done.map((r) => r.path));
    const todo = inputs.filter((i) => !done.has(i.path));
    const skipped = inputs.length - todo.length;

    let checkpoint = args.checkpoint;
    if (!checkpoint) {
      const bar = progressBar(`downloading ${args.model}`);
      checkpoint = await resolveModel(args.model, { baseUrl: args.baseUrl, onProgress: (n, total) => bar.update(n, total, mib(n)) });
      bar.done();
    }
    const loading = progressBar('loading checkpoint');
    scorer = await createScorer({ checkpoint, weights: args.weights, engine: args.engine, onProgress: ({ done: d, total }) => loading.update(d, total, `${d}/${total} tensors`) });
    loading.done();
    if (args.embeddings) emb = openEmbeddingsFile(args.embeddings, scorer.dims.hidden, out!.done.length);

    process.on('SIGINT', onSigint);
    const t0 = performance.now();
    const rows: ResultRow[] = [];
    let failed = 0;
    const progress = todo.length > 1 ? batchProgress(todo.length) : undefined;
    let next = todo.length ? load(todo[0]) : undefined;
    let count = 0;
    for (const [i, input] of todo.entries()) {
      if (stop) break;
      progress?.update(i, input.path);
      const loaded = await next!;
      // Start the GPU on this image, then read and decode the next one while it runs.
      const scoring = 'rgb' in loaded ? scorer.score(loaded.rgb, input.path) : undefined;
      next = i + 1 < todo.length ? load(todo[i + 1]) : undefined;
      let row: ResultRow;
      let embedding: Float32Array | undefined;
      try {
        if (!scoring) throw new MusiqError((loaded as { error: string }).error);
        const r = await scoring;
        row = rowOf(input.path, r);
        embedding = r.embedding;
      } catch (e) {
        if (!(e instanceof MusiqError) && !isFsError(e)) throw e;
        row = { path: input.path, error: oneLine(e) };
        failed++;
      }
      emb?.append(embedding); // before the row: a kill between the two leaves an extra embedding, cut on resume
      if (out) out.append(row);
      else rows.push(row);
      count++;
    }
    await next?.catch(() => undefined);
    progress?.done();
    if (!out) print(rows, format as Format);
    const wall = (performance.now() - t0) / 1000;
    const summary = `musiq: ${count - failed} scored, ${failed} failed, ${skipped} skipped (already in ${args.out ?? 'the output'}) in ${wall.toFixed(1)} s`;
    if (todo.length > 1 || skipped || out) process.stderr.write(`${summary}${count ? `, ${(count / wall).toFixed(2)} img/s` : ''}\n`);
    if (stop && count < todo.length) {
      process.stderr.write(
        out
          ? `musiq: interrupted with ${todo.length - count} images left; run the same command again to resume from ${args.out}\n`
          : `musiq: interrupted with ${todo.length - count} images left (use --out FILE to make a run resumable)\n`,
      );
      return 130;
    }
    return failed || out?.done.some((r) => r.error) ? 1 : 0;
  } catch (e) {
    console.error(e instanceof MusiqError || isFsError(e) ? oneLine(e) : (e as Error).stack);
    return e instanceof MusiqError && /^musiq score: /.test(e.message) ? 2 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    out?.close();
    emb?.close();
    scorer?.dispose();
    // A long run's promotion (src/kernels/tiers.ts) may still compile on a second device; the
    // driver keeps the result for later runs, and the process cannot exit before it is done.
    if (compilingAhead()) process.stderr.write('musiq: the driver is still compiling the faster kernels a long run switches to, for later runs; exiting when it is done (Ctrl-C quits now)\n');
  }
}
