#!/usr/bin/env node
// Entry for `npx synter-infra`: runs the TypeScript CLI with no build step. The sources are
// compiled on first use and kept in a cache checked against each file's bytes (typescript-cache.js).
require("./typescript-cache.js").registerTypeScript(require("node:path").join(__dirname, ".."));
require("../src/cli/main.ts").main(process.argv);
