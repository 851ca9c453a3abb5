// Placeholder until the data commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerDataCommands(program: Command): void {
  program
    .command("data")
    .description("(data: not implemented yet)")
    .action(() => {
      throw new UserError("data is not implemented yet");
    });
}
