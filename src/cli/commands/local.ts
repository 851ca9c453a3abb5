// Placeholder until the local commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerLocalCommands(program: Command): void {
  program
    .command("local")
    .description("(local: not implemented yet)")
    .action(() => {
      throw new UserError("local is not implemented yet");
    });
}
