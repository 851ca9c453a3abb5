// Worker-thread side of real-node.ts: loads TypeScript through tsx (as the CLI and the migration's
// own workers do), calls the export it is told to, and posts back its result or its error.
require("tsx/cjs");
const { parentPort, workerData } = require("node:worker_threads");

const { modulePath, exportName, args } = workerData;
Promise.resolve()
  .then(() => require(modulePath)[exportName](...args))
  .then(
    (result) => parentPort.postMessage({ result }),
    (error) =>
      parentPort.postMessage({
        error: {
          name: error?.name ?? "Error",
          message: error?.message ?? String(error),
          kind: error?.kind,
          stack: error?.stack,
        },
      }),
  );
