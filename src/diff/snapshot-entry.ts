/**
 * Subprocess entry: `node -r tsx/cjs snapshot-entry.ts <projectDir> <stack> <outFile>` writes the
 * checkout's snapshot as JSON to outFile (not stdout: a program may print warnings there). One process per checkout keeps the two programs (and two versions of
 * `schema/`) from sharing a Pulumi runtime or a module cache.
 */
import * as fs from "node:fs";
import { takeSnapshot } from "./snapshot";

async function run(): Promise<void> {
  const [projectDir, stack, outFile] = process.argv.slice(2);
  if (!projectDir || !stack || !outFile) {
    process.stderr.write("usage: snapshot-entry <projectDir> <stack> <outFile>\n");
    process.exitCode = 64;
    return;
  }
  const snapshot = await takeSnapshot(projectDir, stack);
  fs.writeFileSync(outFile, JSON.stringify(snapshot));
}

run().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 70;
});
