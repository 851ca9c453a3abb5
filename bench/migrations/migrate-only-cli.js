#!/usr/bin/env node
// The `migrate` commands alone, for the benchmark: `synter-infra` minus the other areas' imports.
require("tsx/cjs");
const { Command } = require("commander");
const { registerMigrateCommands } = require("../../src/cli/commands/migrate.ts");

const program = new Command("synter-infra").exitOverride();
registerMigrateCommands(program);
program.parseAsync(process.argv).catch((error) => {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 1;
});
