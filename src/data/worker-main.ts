/** The message loop of a migration worker thread: runs lanes and table verifications. */
import { parentPort } from "node:worker_threads";
import { runLane, type LaneMessage } from "./lane";
import type { WorkerJob, WorkerReply } from "./worker-pool";
import { sideChecksum, verifyOne } from "./table-checksums";
import { selectTables } from "./table-plan";
import { serializeError } from "./worker-errors";

const port = parentPort!;

port.on("message", (job: WorkerJob) => {
  const reply = (message: WorkerReply) => port.postMessage(message);
  const work =
    job.kind === "lane"
      ? runLane(job.settings, job.task, (message: LaneMessage) => reply({ id: job.id, message }))
      : job.kind === "verify"
        ? verifyOne(job.options, selectTables([job.table])[0], job.excluded).then((result) =>
            reply({ id: job.id, verified: result }),
          )
        : sideChecksum(
            job.options,
            selectTables([job.table])[0],
            job.excluded,
            job.range,
            job.side,
          ).then((checksum) => reply({ id: job.id, checksum }));
  work.then(
    () => reply({ id: job.id, finished: true }),
    (error: unknown) => {
      reply({ id: job.id, message: { type: "failed", error: serializeError(error) } });
    },
  );
});
