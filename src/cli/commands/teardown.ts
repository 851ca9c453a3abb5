// Placeholder until the teardown commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerTeardownCommands(program: Command): void {
  program
    .command("teardown")
    .description("(teardown: not implemented yet)")
    .action(() => {
      throw new UserError("teardown is not implemented yet");
    });
}
