/**
 * What an earlier `synter-infra local` may have left behind: its servers still running (the run
 * was killed before it could stop them, or its reaper was), or the run itself still going in
 * another terminal. Linux's /proc says which process holds a port and where a process runs: Postgres
 * and Redis both chdir to their data directory, so a server whose working directory is ours is
 * ours, whatever its pid file says. Without /proc (macOS) a live pid in our own pid file counts.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { processIsRunning } from "../rehearse/process-group";
import { writeOwnerOnly } from "./env-file";

const HAS_PROC = existsSync("/proc/self/stat");

/** The pid on the first line of a pid file (postmaster.pid and redis.pid both start so). */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").split("\n")[0] ?? "", 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function procText(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

function runsIn(pid: number, dir: string): boolean {
  if (!processIsRunning(pid)) return false;
  if (!HAS_PROC) return true;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch {
    return false;
  }
}

/** The process listening on TCP `port` (IPv4 or IPv6), when /proc lets us see it. */
export function portHolder(
  port: number,
): { readonly pid: number; readonly name: string } | undefined {
  if (!HAS_PROC) return undefined;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readTable(table).slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the socket's inode.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A") inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        const pid = Number(entry);
        return { pid, name: procText(pid, "comm")?.trim() || "a process" };
      }
    }
  }
  return undefined;
}

function readTable(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The pid of a server an earlier run left running on `dataDir`: the one its pid file names, or
 * the one listening on `port` (an old pid file lost or never written), if it runs in `dataDir`.
 */
export function findEarlierServer(
  dataDir: string,
  pidFile: string,
  port: number,
): number | undefined {
  const fromFile = readPidFile(join(dataDir, pidFile));
  if (fromFile !== undefined && runsIn(fromFile, dataDir)) return fromFile;
  const holder = portHolder(port);
  return holder !== undefined && existsSync(dataDir) && runsIn(holder.pid, dataDir)
    ? holder.pid
    : undefined;
}

/**
 * The pid of another `synter-infra local` that is running on this project (its pid file names a
 * live process that is one), or undefined.
 */
export function findLiveRun(runFile: string): number | undefined {
  const pid = readPidFile(runFile);
  if (pid === undefined || pid === process.pid || !processIsRunning(pid)) return undefined;
  if (!HAS_PROC) return pid;
  // A pid reused since by some other program (or another synter-infra command) is not a run.
  const args = procText(pid, "cmdline")?.split("\0") ?? [];
  return args.some((arg) => arg.includes("synter-infra")) && args.includes("local")
    ? pid
    : undefined;
}

/** Marks this process as the run of the project; returns the release (removes the file). */
export function claimRun(runFile: string): () => void {
  writeOwnerOnly(runFile, `${process.pid}\n`);
  return () => {
    if (readPidFile(runFile) === process.pid) rmSync(runFile, { force: true });
  };
}
