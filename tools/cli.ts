// `musiq <command>`: each command lives in its own file and exports main(args) → exit code.
const commands: Record<string, () => Promise<{ main: (args: string[]) => Promise<number> }>> = {
  score: () => import('./score.ts'),
  inspect: () => import('./inspect.ts'),
};

const USAGE = `usage: musiq <command> [options]

commands:
  score [options] <image|dir>...   score images (musiq score --help)
  inspect <checkpoint.npz> [--json]  describe a MUSIQ checkpoint`;

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(USAGE);
  process.exit(name ? 0 : 1);
}
const load = commands[name];
if (!load) {
  console.error(`musiq: unknown command "${name}"\n\n${USAGE}`);
  process.exit(1);
}
process.exitCode = await (await load()).main(args);
