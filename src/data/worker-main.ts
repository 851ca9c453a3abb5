/**
 * The message loop of a migration worker thread: runs lanes and table verifications. The
 * verification's module (and the target clients it loads) is loaded by the first job that needs
 * it: a worker that only copies never does.
 */
import { parentPort } from "node:worker_threads";
import { closeKeptConnections, runLane, type LaneMessage } from "./lane";
import type { WorkerJob, WorkerReply } from "./worker-pool";
import type * as TableChecksums from "./table-checksums";
import { selectTables } from "./table-plan";
import { serializeError } from "./worker-errors";

const port = parentPort!;

/** Loaded by the first verification job (require(): import() would load it as ESM). */
function tableChecksums(): typeof TableChecksums {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("./table-checksums") as typeof TableChecksums;
}

port.on("message", (job: WorkerJob) => {
  const reply = (message: WorkerReply) => port.postMessage(message);
  const work =
    job.kind === "lane"
      ? runLane(job.settings, job.task, (message: LaneMessage) => reply({ id: job.id, message }))
      : job.kind === "release"
        ? closeKeptConnections()
        : job.kind === "verify"
          ? Promise.resolve()
              .then(() =>
                tableChecksums().verifyOne(job.options, selectTables([job.table])[0], job.excluded),
              )
              .then((result) => reply({ id: job.id, verified: result }))
          : Promise.resolve()
              .then(() =>
                tableChecksums().sideChecksum(
                  job.options,
                  selectTables([job.table])[0],
                  job.excluded,
                  job.range,
                  job.side,
                ),
              )
              .then((checksum) => reply({ id: job.id, checksum }));
  work.then(
    () => reply({ id: job.id, finished: true }),
    (error: unknown) => {
      reply({ id: job.id, message: { type: "failed", error: serializeError(error) } });
    },
  );
});
