// Placeholder until the plan commands land; replaced by their implementation.
import type { Command } from "commander";
import { UserError } from "../errors";

export function registerPlanCommands(program: Command): void {
  program
    .command("plan")
    .description("(plan: not implemented yet)")
    .action(() => {
      throw new UserError("plan is not implemented yet");
    });
}
