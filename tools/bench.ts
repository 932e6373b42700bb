// `musiq bench`: the shipped kernel benchmark (src/bench/) from the command line. Progress on
// stderr; the table, the JSON or the comparison on stdout.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createNodeRuntime } from '../src/index.node.ts';
import { MusiqError } from '../src/common/errors.ts';
import { runBench, type BenchOptions } from '../src/bench/run.ts';
import { GROUPS } from '../src/bench/cases.ts';
import { checkReport, formatReport } from '../src/bench/report.ts';
import { compareReports, formatComparison, parseReport } from '../src/bench/compare.ts';
import type { BenchReport, BenchRuntimeInfo } from '../src/bench/schema.ts';
import type { AdapterDescription } from '../src/runtime/device.ts';
import { packageVersion } from './package-version.ts';

const HELP = `usage: musiq bench [options]
       musiq bench --compare <a.json> <b.json> [more.json...]

Measures this adapter's roofline (peak multiply-add GFLOP/s, streaming GB/s), every MUSIQ kernel
group on the model's real shapes with each variant the adapter runs (median and p95 time, GFLOP/s,
GB/s, fraction of the roofline, pipeline compile time, the variant autotune chose), and the whole
model end to end with random weights of the real shapes.

options:
  --size WxH          image size whose shapes the kernels run (default 1024x768)
  --quick             a short run (~1-2 min on a CPU adapter): fewer samples, no naive matmul,
                      the model at --size only
  --groups a,b,...    only these kernel groups (${GROUPS.join(', ')}); "none" for none
  --no-model          leave out the end-to-end model
  --json              print the report as one JSON object (schema musiq-bench/1), nothing else
  --out <file.json>   also write the JSON report to a file
  --compare a b ...   compare saved --json reports: GFLOP/s (or GB/s) per file, ratio to the first
  -h, --help          this text

Exit code 2 for a usage error, 1 for a failed run or an unreadable report file.`;

class UsageError extends Error {}

interface Args extends BenchOptions {
  json: boolean;
  out?: string;
  compare?: string[];
}

function parseSize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  const w = m ? Number(m[1]) : NaN, h = m ? Number(m[2]) : NaN;
  if (!(w >= 32 && h >= 32 && w <= 8192 && h <= 8192)) throw new UsageError(`musiq bench: --size must be WxH with sides from 32 to 8192, got "${v}"`);
  return [w, h];
}

function parse(argv: string[]): Args {
  let size: [number, number] = [1024, 768];
  const a: Args = { width: 0, height: 0, quick: false, json: false, modelSizes: [] };
  let model = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`musiq bench: ${arg} needs a value`);
      return v;
    };
    if (arg === '--size') size = parseSize(value());
    else if (arg === '--quick') a.quick = true;
    else if (arg === '--json') a.json = true;
    else if (arg === '--no-model') model = false;
    else if (arg === '--out') a.out = value();
    else if (arg === '--groups') {
      const list = value().split(',').filter((g) => g !== 'none');
      const bad = list.filter((g) => !(GROUPS as readonly string[]).includes(g));
      if (bad.length) throw new UsageError(`musiq bench: unknown group ${bad.join(', ')} (one of ${GROUPS.join(', ')})`);
      a.groups = list;
    } else if (arg === '--compare') {
      a.compare = argv.slice(i + 1);
      if (a.compare.length < 2 || a.compare.some((f) => f.startsWith('--'))) throw new UsageError('musiq bench: --compare takes two or more report files and nothing after them');
      break;
    } else throw new UsageError(`musiq bench: unknown option ${arg} (see --help)`);
  }
  [a.width, a.height] = size;
  a.modelSizes = !model ? [] : a.quick ? [size] : [[512, 384], [1024, 768]];
  return a;
}

/** node, bun or deno with its version; the Dawn binding's version where it is the npm package. */
function runtimeInfo(): BenchRuntimeInfo {
  const g = globalThis as { Deno?: { version: { deno: string } } };
  const versions = process.versions as Record<string, string | undefined>;
  const name = g.Deno ? 'deno' : versions.bun ? 'bun' : 'node';
  const version = g.Deno?.version.deno ?? versions.bun ?? process.versions.node;
  let webgpu: string | undefined;
  try {
    const pkg = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('webgpu/package.json'), 'utf8')) as { version: string };
    webgpu = `Dawn (npm webgpu ${pkg.version})`;
  } catch {
    webgpu = undefined;
  }
  return { name, version, ...(webgpu ? { webgpu } : {}) };
}


/**
 * What can be known of Mesa's on-disk shader cache (lavapipe), looked at before any device exists
 * (the run fills it); other drivers keep theirs out of sight.
 */
function driverCacheAtStart(): (adapter: AdapterDescription) => string {
  const mesa = mesaCache();
  return (adapter) => (adapter.vendor === 'mesa' ? mesa : 'unknown for this driver');
}

function mesaCache(): string {
  const env = process.env;
  if (/^(1|true|yes)$/i.test(env.MESA_SHADER_CACHE_DISABLE ?? '')) return 'Mesa cache disabled (MESA_SHADER_CACHE_DISABLE)';
  const dir = env.MESA_SHADER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mesa_shader_cache_db');
  return existsSync(dir) ? `Mesa cache present at ${dir} at the start (compile times are low for kernels it already holds)` : `no Mesa cache at ${dir} at the start (cold)`;
}

function compare(files: string[]): number {
  const reports: BenchReport[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      console.error(`musiq bench: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 1;
    }
    try {
      reports.push(parseReport(f, text));
    } catch (e) {
      console.error(`musiq bench: ${(e as Error).message}`);
      return 1;
    }
  }
  console.log(formatComparison(files, reports, compareReports(reports)));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  let args: Args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    return 2;
  }
  if (args.compare) return compare(args.compare);
  const t0 = performance.now();
  try {
    const report = await runBench(
      {
        open: (profile) => createNodeRuntime({ profile }),
        runtime: runtimeInfo(),
        packageVersion: packageVersion(),
        driverCache: driverCacheAtStart(),
        log: (line) => console.error(line),
      },
      args,
    );
    const json = JSON.stringify(report);
    if (args.out) writeFileSync(args.out, json + '\n');
    if (args.json) process.stdout.write(json + '\n');
    else console.log(formatReport(report));
    const problems = checkReport(report);
    for (const p of problems) console.error(`musiq bench: check failed: ${p}`);
    console.error(`musiq bench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return problems.length ? 1 : 0;
  } catch (e) {
    console.error(e instanceof MusiqError ? String(e.message).split('\n')[0] : (e as Error).stack);
    return 1;
  }
}
