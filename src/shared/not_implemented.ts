/** Entry point for executables whose issue has not landed yet: says so and exits 2. */
export function notImplemented(executable: string, issue: number): never {
  process.stderr.write(`${executable}: not implemented yet (tracked in issue ${issue})\n`);
  process.exit(2);
}
