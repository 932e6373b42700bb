// `musiq validate [--model NAME | --checkpoint FILE]`: scores the photos with published scores
// (assets/official: TID2013 I03–I19 for koniq/spaq/paq2piq/ava, image9.png for spaq) and
// compares every published digit. Exit 0: all match; 1: any differs; 2: nothing to compare
// (no checkpoint and no download, no published scores for its head, usage).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createScorer, resolveModel, MODEL_NAMES, type Scorer } from '../src/index.node.ts';
import { MusiqError } from '../src/common/errors.ts';
import { CONVERTED_SCORE_TOLERANCE } from '../src/musiq/quantize.ts';
import { progressBar, mib } from './progress.ts';

const HELP = `usage: musiq validate [--model <name> | --checkpoint <file.npz>] [--base-url <url>]

Scores the official test photos (TID2013 I03, I04, I06, I08, I19; image9.png for spaq) and
compares each score with the published value, digit by digit.
  --model <name>          ${MODEL_NAMES.join('|')} (default koniq), from $MUSIQ_HOME or downloaded
  --checkpoint <file.npz> a checkpoint file; its published scores are found by --model
                          or, failing that, by its file name (koniq_ckpt.npz → koniq)
Exit code 0 when every published digit matches, 1 when any differs, 2 when there is nothing
to compare against.`;

const assets = new URL('../assets/official/', import.meta.url);

interface Expected {
  sha256: Record<string, string>;
  scores: Record<string, Record<string, string>>;
}

/** Does `score` show the published decimal string, rounded to as many decimals as it has? */
export function matchesPublished(score: number, published: string): boolean {
  const decimals = published.split('.')[1]?.length ?? 0;
  return score.toFixed(decimals) === Number(published).toFixed(decimals);
}

function modelOf(args: { model?: string; checkpoint?: string }): string {
  if (args.model) return args.model;
  const guess = args.checkpoint && MODEL_NAMES.find((m) => basename(args.checkpoint!).toLowerCase().includes(m));
  return guess ?? 'koniq';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const args: { model?: string; checkpoint?: string; baseUrl?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (['--model', '--checkpoint', '--base-url'].includes(argv[i]) && v === undefined) return usage(`${argv[i]} needs a value`);
    if (argv[i] === '--model') args.model = argv[++i];
    else if (argv[i] === '--checkpoint') args.checkpoint = argv[++i];
    else if (argv[i] === '--base-url') args.baseUrl = argv[++i];
    else return usage(`unknown argument ${argv[i]}`);
  }
  const model = modelOf(args);
  const expected = JSON.parse(readFileSync(new URL('expected.json', assets), 'utf8')) as Expected;
  const published = expected.scores[model];
  if (!(MODEL_NAMES as readonly string[]).includes(model)) return usage(`unknown model "${model}" (choose one of ${MODEL_NAMES.join(', ')})`);
  if (!published) {
    console.error(`musiq validate: no published scores for the ${model} checkpoint (there are for ${Object.keys(expected.scores).join(', ')})`);
    return 2;
  }
  let scorer: Scorer | undefined;
  try {
    let checkpoint = args.checkpoint;
    if (!checkpoint) {
      const bar = progressBar(`downloading ${model}`);
      try {
        checkpoint = await resolveModel(model, { baseUrl: args.baseUrl, onProgress: (n, total) => bar.update(n, total, mib(n)) });
      } catch (e) {
        bar.done();
        console.error((e as Error).message.split('\n')[0]);
        return 2;
      }
      bar.done();
    }
    scorer = await createScorer({ checkpoint });
    // A converted file cannot reproduce every published digit: it is held to its precision's bar.
    const file = scorer.precision.file;
    const tol = file === 'f32' ? undefined : CONVERTED_SCORE_TOLERANCE[file];
    if (tol !== undefined) console.log(`${file} checkpoint (musiq convert): a score passes within ${tol}·max(1, |expected|) of the published one`);
    console.log(`${'image'.padEnd(12)}${'expected'.padStart(12)}${'got'.padStart(14)}${'difference'.padStart(13)}`);
    let bad = 0;
    for (const [image, want] of Object.entries(published)) {
      const bytes = readFileSync(new URL(image, assets));
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== expected.sha256[image]) throw new MusiqError(`musiq validate: ${image} in the package is not the published photo (sha256 ${sha}); reinstall musiq-webgpu`);
      const { score } = await scorer.score(bytes, image);
      const ok = tol === undefined ? matchesPublished(score, want) : Math.abs(score - Number(want)) <= tol * Math.max(1, Math.abs(Number(want)));
      if (!ok) bad++;
      const diff = score - Number(want);
      console.log(`${image.padEnd(12)}${want.padStart(12)}${score.toFixed(6).padStart(14)}${diff.toExponential(2).padStart(13)}  ${ok ? 'ok' : 'DIFFERS'}`);
    }
    const n = Object.keys(published).length;
    const match = tol === undefined ? 'match' : `are within the ${file} tolerance of`;
    console.log(bad ? `${bad} of ${n} scores differ from the published ${model} values: this is not the official ${model} checkpoint, or something is wrong` : `all ${n} scores ${match} the published ${model} values`);
    return bad ? 1 : 0;
  } catch (e) {
    console.error(e instanceof MusiqError ? e.message.split('\n')[0] : (e as Error).stack);
    return 2;
  } finally {
    scorer?.dispose();
  }
}

function usage(why: string): number {
  console.error(`musiq validate: ${why}\n\n${HELP}`);
  return 2;
}
