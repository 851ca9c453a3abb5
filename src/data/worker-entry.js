// Worker-thread entry of the data migration: loads TypeScript through the same compile cache as
// bin/synter-infra.js does for the main thread (compiling through tsx in every worker cost each one
// about a second of CPU), then the worker's message loop.
const { join } = require("node:path");
const root = join(__dirname, "..", "..");
require(join(root, "bin", "typescript-cache.js")).registerTypeScript(root);
require("./worker-main.ts");
