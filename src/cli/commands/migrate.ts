// Placeholder until the migrate commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerMigrateCommands(program: Command): void {
  program
    .command("migrate")
    .description("(migrate: not implemented yet)")
    .action(() => {
      throw new UserError("migrate is not implemented yet");
    });
}
