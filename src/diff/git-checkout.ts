/**
 * Materializes a git ref as a detached worktree in a temp directory, with `node_modules` linked to
 * the current checkout's (the base ref's program and schema run with today's installed packages),
 * and removes it again.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ToolError } from "../errors/tool-error";

/** `diff` was run outside a git repository, or its `--base` names no commit. */
export class GitRefError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

export function repositoryRoot(cwd: string): string {
  try {
    return git(cwd, ["rev-parse", "--show-toplevel"]);
  } catch {
    throw new GitRefError(`${cwd} is not inside a git repository; diff compares against a git ref`);
  }
}

export function resolveRef(root: string, ref: string): string {
  try {
    return git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new GitRefError(
      `git ref "${ref}" does not exist here (in CI, fetch the base branch first, e.g. actions/checkout with fetch-depth: 0)`,
    );
  }
}

export interface Checkout {
  readonly dir: string;
  readonly commit: string;
  remove(): void;
}

export function checkoutRef(root: string, ref: string): Checkout {
  const commit = resolveRef(root, ref);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "synter-diff-"));
  const dir = path.join(parent, "base");
  git(root, ["worktree", "add", "--detach", dir, commit]);
  const modules = path.join(root, "node_modules");
  if (fs.existsSync(modules) && !fs.existsSync(path.join(dir, "node_modules"))) {
    fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
  }
  return {
    dir,
    commit,
    remove: () => {
      try {
        git(root, ["worktree", "remove", "--force", dir]);
      } finally {
        fs.rmSync(parent, { recursive: true, force: true });
        try {
          git(root, ["worktree", "prune"]);
        } catch {
          // Pruning is housekeeping; a failure leaves only a stale entry git prunes later.
        }
      }
    },
  };
}
