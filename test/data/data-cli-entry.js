// The `synter-infra data …` commands alone, as the tests' child process: the same registration and
// error-to-exit-code mapping as src/cli/main.ts, without loading the other areas' modules.
require("tsx/cjs");
const { Command, CommanderError } = require("commander");
const { registerDataCommands } = require("../../src/cli/commands/data.ts");
const { UserError } = require("../../src/cli/errors.ts");

const program = new Command("synter-infra").exitOverride();
registerDataCommands(program);
program.parseAsync(process.argv).catch((error) => {
  if (error instanceof CommanderError) process.exitCode = error.exitCode;
  else if (error instanceof UserError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`internal error: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 70;
  }
});
