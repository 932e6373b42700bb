// A newcomer's first `musiq score` against the second: the CLI as the package ships it (dist/,
// built first: through tsx each process would spend ~0.4 s more) run twice on a fresh HOME (Mesa's
// shader cache, $MUSIQ_HOME and its tune.json all inside a new temporary folder), with the
// full-size synthetic checkpoint and one 1024×768 JPEG (cjpeg; a PNG where cjpeg is missing).
// Prints each run's wall time, the model time the CLI reports, and cold / warm.
// --rounds N repeats all of it N times, each round on a new fresh HOME, and prints every round's
// ratio and their median: on a shared 2-core host one round's ratio moved between 1.56 and 2.27.
//   npm run bench:cold [-- --size 1024x768] [-- --runs 2] [-- --rounds 3] [-- --json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { buildAll } from '../tools/build.ts';
import { syntheticImage } from '../src/bench/synthetic-image.ts';
import { median } from '../src/bench/timing.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const [width, height] = opt('--size', '1024x768').split('x').map(Number);
const runs = Math.max(2, Number(opt('--runs', '2')));
const roundCount = Math.max(1, Number(opt('--rounds', '1')));
const json = args.includes('--json');

const dir = mkdtempSync(join(tmpdir(), 'musiq-cold-'));
try {
  const checkpoint = join(dir, 'koniq_synthetic.npz');
  writeFileSync(checkpoint, writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 }));
  const img = syntheticImage(width, height);
  const ppm = join(dir, 'photo.ppm');
  writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), img.data]));
  let image = join(dir, 'photo.jpg');
  try {
    writeFileSync(image, execFileSync('cjpeg', ['-quality', '90', ppm]));
  } catch {
    image = join(dir, 'photo.png');
    const { writePng } = await import('../test/image/png-writer.ts');
    writeFileSync(image, writePng({ width, height, depth: 8, colorType: 2, samples: Uint16Array.from(img.data) }));
  }
  await buildAll();
  const cli = fileURLToPath(new URL('../dist/node/cli.js', import.meta.url));
  const rounds: { runs: { run: number; wallMs: number; modelMs: number }[]; coldOverWarm: number }[] = [];
  for (let round = 1; round <= roundCount; round++) {
    const home = join(dir, `home${round}`);
    const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), MUSIQ_HOME: join(home, '.cache', 'musiq') };
    if (!json && roundCount > 1) console.log(`round ${round} of ${roundCount} (a new fresh HOME):`);
    const rows: { run: number; wallMs: number; modelMs: number }[] = [];
    for (let run = 1; run <= runs; run++) {
      const t0 = performance.now();
      const out = execFileSync(process.execPath, [cli, 'score', '--json', '--checkpoint', checkpoint, image], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const wallMs = performance.now() - t0;
      const modelMs = (JSON.parse(out) as { ms: number }[])[0].ms;
      rows.push({ run, wallMs, modelMs });
      if (!json) console.log(`run ${run}${run === 1 ? ' (cold)' : ''}: ${(wallMs / 1000).toFixed(2)} s wall, ${(modelMs / 1000).toFixed(2)} s in score()`);
    }
    const ratio = rows[0].wallMs / median(rows.slice(1).map((r) => r.wallMs));
    rounds.push({ runs: rows, coldOverWarm: ratio });
    if (!json) console.log(`cold / warm: ${ratio.toFixed(2)}× (${width}×${height}, fresh HOME: empty Mesa shader cache, no tune.json)`);
    rmSync(home, { recursive: true, force: true });
  }
  const ratio = median(rounds.map((r) => r.coldOverWarm));
  if (json) console.log(JSON.stringify({ width, height, image: image.endsWith('.jpg') ? 'jpeg' : 'png', runs: rounds[0].runs, coldOverWarm: ratio, rounds }));
  else if (roundCount > 1) console.log(`cold / warm over ${roundCount} rounds: ${rounds.map((r) => r.coldOverWarm.toFixed(2)).join(', ')}; median ${ratio.toFixed(2)}×`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
