#!/usr/bin/env node
// Entry for `npx synter-infra`: runs the TypeScript CLI through tsx, so there is no build step.
require("tsx/cjs");
require("../src/cli/main.ts").main(process.argv);
