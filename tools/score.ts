// `musiq score [options] <image|dir>...`
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { createScorer, resolveModel, MODEL_NAMES, type Scorer, type ScoreResult } from '../src/index.node.ts';
import { MusiqError } from '../src/runtime/errors.ts';
import { progressBar, mib } from './progress.ts';

const HELP = `usage: musiq score [options] <image|dir>...

Scores PNG and JPEG images with MUSIQ. Directories are walked (sorted, image files only).

options:
  --model <name>          ${MODEL_NAMES.join('|')} (default koniq); looked up in $MUSIQ_HOME
                          (default ~/.cache/musiq) and downloaded once when absent
  --checkpoint <file.npz> use this checkpoint file instead of a named model
  --base-url <url>        where named models are downloaded from (default: the original bucket;
                          also $MUSIQ_BASE_URL)
  --format table|json|csv output format (default: table on a terminal, json otherwise)
  --json                  same as --format json
  -h, --help              this text

Exit code 1 if any image could not be scored (its row carries the error).`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

interface Args {
  model: string;
  checkpoint?: string;
  baseUrl?: string;
  format: 'table' | 'json' | 'csv';
  paths: string[];
}

function parse(argv: string[]): Args {
  const a: Args = { model: 'koniq', format: process.stdout.isTTY ? 'table' : 'json', paths: [] };
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
    else if (arg === '--json') a.format = 'json';
    else if (arg === '--format') {
      const f = value();
      if (f !== 'table' && f !== 'json' && f !== 'csv') throw new MusiqError(`musiq score: --format must be table, json or csv, not "${f}"`);
      a.format = f;
    } else if (arg.startsWith('-')) throw new MusiqError(`musiq score: unknown option ${arg} (see --help)`);
    else a.paths.push(arg);
  }
  if (a.paths.length === 0) throw new MusiqError('musiq score: no image given (see --help)');
  return a;
}

/** Files named on the command line stay as given (even with odd extensions); directories give their images. */
async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s?.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      const files = entries.filter((e) => e.isFile() && IMAGE_EXT.has(extname(e.name).toLowerCase())).map((e) => join(p, e.name));
      const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(p, e.name));
      out.push(...files, ...(await expand(dirs)));
    } else out.push(p);
  }
  return out;
}

type Row = { path: string; error: string } | ({ path: string; ms: number } & Omit<ScoreResult, 'timings' | 'embedding' | 'logits'>);

function rowOf(path: string, r: ScoreResult): Row {
  const row: Row = { path, score: r.score, variant: r.variant, width: r.width, height: r.height, tokens: r.tokens, ms: Math.round(r.timings.total * 10) / 10 };
  if (r.distribution) row.distribution = r.distribution;
  if (r.top5) row.top5 = r.top5;
  return row;
}

function print(rows: Row[], format: Args['format']): void {
  if (format === 'json') {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const cells = rows.map((r) =>
    'error' in r
      ? [r.path, 'error', '', '', '', r.error]
      : [r.path, r.score.toFixed(format === 'csv' ? 6 : 3), r.variant, `${r.width}x${r.height}`, String(r.tokens), String(r.ms)],
  );
  const header = ['path', 'score', 'variant', 'size', 'tokens', 'ms'];
  if (format === 'csv') {
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    for (const line of [header, ...cells]) console.log(line.map(q).join(','));
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] === 'error' ? 0 : c[i].length))));
  console.log(header.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const c of cells) console.log(c[1] === 'error' ? `${c[0].padEnd(widths[0])}  error: ${c[5]}` : c.map((v, i) => v.padEnd(widths[i])).join('  '));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  let scorer: Scorer | undefined;
  try {
    const args = parse(argv);
    const files = await expand(args.paths);
    if (files.length === 0) throw new MusiqError(`musiq score: no PNG or JPEG files in ${args.paths.join(', ')}`);
    let checkpoint = args.checkpoint;
    if (!checkpoint) {
      const bar = progressBar(`downloading ${args.model}`);
      checkpoint = await resolveModel(args.model, { baseUrl: args.baseUrl, onProgress: (n, total) => bar.update(n, total, mib(n)) });
      bar.done();
    }
    const loading = progressBar('loading checkpoint');
    scorer = await createScorer({ checkpoint, onProgress: ({ done, total }) => loading.update(done, total, `${done}/${total} tensors`) });
    loading.done();
    const rows: Row[] = [];
    const bar = files.length > 1 ? progressBar('scoring') : undefined;
    for (const [i, path] of files.entries()) {
      bar?.update(i, files.length, path);
      try {
        rows.push(rowOf(path, await scorer.score(await readFile(path), path)));
      } catch (e) {
        if (!(e instanceof MusiqError) && !isFsError(e)) throw e;
        rows.push({ path, error: oneLine(e) });
      }
    }
    bar?.done();
    print(rows, args.format);
    return rows.some((r) => 'error' in r) ? 1 : 0;
  } catch (e) {
    console.error(e instanceof MusiqError || isFsError(e) ? oneLine(e) : (e as Error).stack);
    return 1;
  } finally {
    scorer?.dispose();
  }
}

function isFsError(e: unknown): boolean {
  return typeof (e as { code?: unknown })?.code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
}

function oneLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return `${err.path}: no such file`;
  if (err.code === 'EISDIR') return `${err.path}: is a directory`;
  if (err.code === 'EACCES') return `${err.path}: permission denied`;
  return String(err.message).split('\n')[0];
}
