#!/usr/bin/env node
// `musiq <command>`: each command lives in its own file and exports main(args) → exit code.
export {};
const commands: Record<string, () => Promise<{ main: (args: string[]) => Promise<number> }>> = {
  score: () => import('./score.ts'),
  inspect: () => import('./inspect.ts'),
  validate: () => import('./validate.ts'),
  convert: () => import('./convert.ts'),
  bench: () => import('./bench.ts'),
};

const USAGE = `usage: musiq <command> [options]

commands:
  score [options] <image|dir>...   score images (musiq score --help)
  inspect <checkpoint.npz> [--json]  describe a MUSIQ checkpoint
  validate [--model NAME | --checkpoint FILE]
                                   check a checkpoint against the published scores
  convert --weights f16|int8 <in.npz> <out.npz>
                                   a smaller checkpoint (musiq convert --help)
  bench [--quick] [--json] [--size WxH] | --compare a.json b.json...
                                   kernel and model benchmark with this adapter's roofline
  --version                        this package's version`;

const [command, ...args] = process.argv.slice(2);
if (command === '--version' || command === '-v') {
  console.log((await import('./package-version.ts')).packageVersion());
  process.exit(0);
}
if (!command || command === "--help" || command === "-h") {
  console.log(USAGE);
  process.exit(command ? 0 : 1);
}
const load = commands[command];
if (!load) {
  console.error(`musiq: unknown command "${command}"\n\n${USAGE}`);
  process.exit(1);
}
process.exitCode = await (await load()).main(args);
