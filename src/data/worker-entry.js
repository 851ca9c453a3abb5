// Worker-thread entry of the data migration: loads TypeScript through tsx (as bin/ does for the
// main thread), then the worker's message loop.
require("tsx/cjs");
require("./worker-main.ts");
