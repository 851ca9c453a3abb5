// Placeholder until the schema commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerSchemaCommands(program: Command): void {
  program
    .command("schema")
    .description("(schema: not implemented yet)")
    .action(() => {
      throw new UserError("schema is not implemented yet");
    });
}
