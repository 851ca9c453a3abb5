// Placeholder until the diff commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerDiffCommands(program: Command): void {
  program
    .command("diff")
    .description("(diff: not implemented yet)")
    .action(() => {
      throw new UserError("diff is not implemented yet");
    });
}
