/**
 * A small pool of worker threads for the migration: lanes and table verifications are CPU-bound in
 * JavaScript (conversion, encoding, hashing), so they run on several cores. Each worker's heap is
 * capped (`resourceLimits`), which keeps the process's memory bounded whatever the table size: the
 * work streams page by page, and a capped heap collects garbage instead of growing.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { LaneMessage, LaneSettings, LaneTask } from "./lane";
import type { Checksum, KeyRange } from "./checksum";
import type { TableVerification, VerifyTaskOptions } from "./table-checksums";
import { rebuildError } from "./worker-errors";

export type WorkerJob =
  | {
      readonly id: number;
      readonly kind: "lane";
      readonly settings: LaneSettings;
      readonly task: LaneTask;
    }
  | {
      readonly id: number;
      /** Ends the connections the worker's last lane kept (`lane.ts`): the pool is closing. */
      readonly kind: "release";
    }
  | {
      readonly id: number;
      readonly kind: "verify";
      readonly options: VerifyTaskOptions;
      readonly table: string;
      readonly excluded: readonly string[];
    }
  | {
      readonly id: number;
      readonly kind: "checksum";
      readonly options: VerifyTaskOptions;
      readonly table: string;
      readonly excluded: readonly string[];
      readonly range: KeyRange;
      readonly side: "source" | "target";
    };

export type WorkerReply =
  | { readonly id: number; readonly message: LaneMessage }
  | { readonly id: number; readonly verified: TableVerification }
  | { readonly id: number; readonly checksum: Checksum }
  | { readonly id: number; readonly finished: true };

/**
 * Heap per worker: pages are ~10 MB of rows; the rest is headroom for the pipeline. Measured on the
 * benchmark (1M events): a 16–32 MB young generation was no faster (32 MB with a 48 MB old
 * generation was 40% slower) and raised the peak RSS by 10–40 MB, so the young generation stays small.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 };

/** How long a closing pool waits for its workers to end their connections. */
const RELEASE_TIMEOUT_MS = 2000;

/** The default stays small: every worker holds two connections to the source, one to the target. */
export const DEFAULT_MAX_WORKERS = 4;
/** `--workers` may go higher, up to this. */
export const MAX_WORKERS = 32;

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(DEFAULT_MAX_WORKERS, availableParallelism()));
}

type JobInput = WorkerJob extends infer J ? (J extends WorkerJob ? Omit<J, "id"> : never) : never;

interface Pending {
  readonly job: WorkerJob;
  readonly onMessage: (reply: WorkerReply) => void;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly all: Worker[] = [];
  private nextId = 1;

  constructor(size = defaultPoolSize()) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(join(__dirname, "worker-entry.js"), {
        resourceLimits: WORKER_LIMITS,
      });
      worker.on("message", (reply: WorkerReply) => this.onReply(worker, reply));
      worker.on("error", (error) => this.onCrash(worker, error));
      // Terminated or exited: whatever it was running can no longer finish.
      worker.on("exit", (code) =>
        this.onCrash(worker, new Error(`worker thread exited (${code})`)),
      );
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  /** Runs a job on the next free worker; `onMessage` sees every reply until it finishes. */
  run(job: JobInput, onMessage: (reply: WorkerReply) => void): Promise<void> {
    if (this.closing && job.kind !== "release") {
      return Promise.reject(new Error("worker pool closed"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        job: { ...job, id: this.nextId++ } as WorkerJob,
        onMessage,
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.postMessage(pending.job);
    }
  }

  private onReply(worker: Worker, reply: WorkerReply): void {
    const pending = this.running.get(worker);
    if (!pending) return;
    pending.onMessage(reply);
    const failed = "message" in reply && reply.message.type === "failed";
    if ("finished" in reply || failed) {
      this.running.delete(worker);
      this.idle.push(worker);
      if (failed) {
        const m = reply.message as Extract<LaneMessage, { type: "failed" }>;
        pending.reject(rebuildError(m.error));
      } else pending.resolve();
      this.dispatch();
    }
  }

  private onCrash(worker: Worker, error: Error): void {
    // A worker that died (e.g. out of heap) fails its job; the pool is closed by the caller.
    const pending = this.running.get(worker);
    this.running.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    pending?.reject(error);
  }

  /**
   * Stops every worker (a running lane is cut at any point: its open transaction rolls back). An
   * idle worker first ends the connections it kept, each with the protocol's goodbye: a socket
   * that just closes is an "aborted connection" in the server's log.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeNow(): Promise<void> {
    for (const pending of this.queue.splice(0)) pending.reject(new Error("worker pool closed"));
    for (const [worker, pending] of this.running) {
      this.running.delete(worker);
      pending.reject(new Error("worker pool closed"));
    }
    const released = this.idle.map(() => this.run({ kind: "release" }, () => undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(released),
      new Promise((resolve) => (timer = setTimeout(resolve, RELEASE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    for (const pending of this.queue.splice(0)) pending.reject(new Error("worker pool closed"));
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
