// Placeholder until the command lands; says so instead of pretending.
export async function main(_args: string[]): Promise<number> {
  console.error("musiq inspect: not implemented yet");
  return 2;
}
