/**
 * Calls a function of one of our modules in a worker thread that loads modules as Node does, not
 * as Jest does. Google's client libraries fetch through `await import("node-fetch")` (teeny-request,
 * gaxios 7), which Jest's vm context refuses without --experimental-vm-modules; in the CLI and the
 * migration's own worker threads (tsx on Node) it works, and so it does here. Arguments and the
 * result cross by structured clone; an error comes back with its name, message and (for a
 * `ToolError`) its kind.
 */
import { join } from "node:path";
import { Worker } from "node:worker_threads";

export class ErrorFromNode extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly kind: string | undefined,
    readonly workerStack: string | undefined,
  ) {
    super(message);
    this.name = errorName;
  }
}

type Reply =
  | { readonly result: unknown }
  | {
      readonly error: { name: string; message: string; kind?: string; stack?: string };
    };

export function callInNode<T>(
  modulePath: string,
  exportName: string,
  args: readonly unknown[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(join(__dirname, "real-node-worker.js"), {
      workerData: { modulePath, exportName, args },
      env,
    });
    let settled = false;
    worker.once("message", (reply: Reply) => {
      settled = true;
      if ("error" in reply) {
        const { name, message, kind, stack } = reply.error;
        reject(new ErrorFromNode(name, message, kind, stack));
      } else resolve(reply.result as T);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`worker thread exited (${code}) without an answer`));
    });
  });
}
