/**
 * Runs stack `pr-42` (the rendered template, plus the config edits in argv[2] as JSON) under the mock
 * runtime against a dev stack exporting the outputs in argv[3], in a process of its own, and
 * handles an error thrown while resolving outputs the way `pulumi up`'s Node host does: it catches
 * the unhandled rejection and fails (exit code 32, as the host's). Prints `{ "failures": [...] }`,
 * each distinct error once, `RunError: ` before a RunError's message (the host prints it without a
 * stack); `{ "failures": [] }` and exit code 0 when the program completes. Used by
 * pr-dev-ssl-mode.test.ts: jest does not let a test watch unhandled rejections.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DEV_STACK, loadConfig } from "../../infra/config";
import { createPlatform } from "../../infra/platform";
import { runUnderMocks } from "../support/pulumi-harness";
import { stackConfig } from "./stack-run";

const failures: string[] = [];
let reportTimer: NodeJS.Timeout | undefined;

function finish(): void {
  process.stdout.write(`${JSON.stringify({ failures })}\n`);
  process.exit(failures.length > 0 ? 32 : 0);
}

process.on("unhandledRejection", (reason) => {
  const message = pulumi.RunError.isInstance(reason)
    ? `RunError: ${reason.message}`
    : reason instanceof Error
      ? `${reason.name}: ${reason.message}`
      : String(reason);
  if (!failures.includes(message)) failures.push(message);
  // The registrations waiting for the failed outputs never complete under the mocks: report once
  // the rejections have settled.
  reportTimer ??= setTimeout(finish, 500);
});

const edits = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
const devOutputs = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;
const config = stackConfig("pr-42");
void runUnderMocks(
  {
    project: config.project,
    stack: "pr-42",
    config: { ...config.values, ...edits },
    secretKeys: config.secretKeys,
    stackOutputs: { [DEFAULT_DEV_STACK]: devOutputs },
  },
  () => createPlatform(loadConfig()),
).then(() => {
  if (reportTimer === undefined) finish();
});
