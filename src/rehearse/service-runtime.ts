/**
 * A runtime that really runs the services the Railway stand-in deploys, on this machine: the
 * stand-in calls `deploy` when a deployment enters DEPLOYING and marks it SUCCESS once the server
 * listens. Two images are supported (Railway's Postgres SSL image, `redis:7`); anything else ends
 * the deployment FAILED.
 *
 * What a container would see is mapped onto local directories: a volume's mount path onto one
 * directory per volume instance (kept across redeploys, so data survives as on Railway), any
 * other path onto a scratch directory of the deployment (lost on redeploy, as a container's own
 * filesystem is). A redeploy stops the old server before it starts the new one: Railway cannot
 * mount a volume into two deployments, so a service with a volume has that gap there too.
 *
 * Not modelled: restart policies (a crashed server stays down), resource limits, health checks,
 * `${{...}}` variable references (variables reach the server as stored).
 */
import { mkdirSync, mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import {
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_IMAGE,
} from "../../infra/railway/database-service-provider";
import { describeExit, type ExitStatus, type GroupProcess } from "./process-group";
import { startPostgresSslImage } from "./postgres-ssl-image";
import { startRedisImage } from "./redis-image";

/** What the stand-in hands the runtime when a deployment enters DEPLOYING. */
export interface ServiceLaunch {
  /** `environmentId/serviceId`: one running server per service instance. */
  readonly key: string;
  readonly deploymentId: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceId: string;
  readonly serviceName: string;
  /** `<name>.railway.internal`, fixed when the service was created. */
  readonly privateHost: string;
  readonly image: string | null;
  readonly startCommand: string | null;
  /** The service's variables as stored (shared variables are not merged in). */
  readonly variables: Readonly<Record<string, string>>;
  readonly volume: { readonly instanceId: string; readonly mountPath: string } | null;
}

export interface RunningService {
  readonly key: string;
  readonly deploymentId: string;
  /** Where the server listens on this machine. */
  readonly host: string;
  readonly port: number;
  /** The port it listens on inside the container (what a TCP proxy's applicationPort names). */
  readonly containerPort: number;
  readonly pid: number | undefined;
}

export interface DeployHooks {
  /** Aborted when the deployment is superseded or removed while it starts. */
  readonly signal: AbortSignal;
  /** The server exited without being stopped (after `deploy` resolved). */
  readonly onExit: (reason: string, log: string) => void;
}

/** A deployment that cannot run: FAILED (never started: image, machine) or CRASHED (it died). */
export class ServiceStartError extends Error {
  override readonly name = "ServiceStartError";
  constructor(
    readonly status: "FAILED" | "CRASHED",
    message: string,
    /** The server's output, when it ran. */
    readonly log: string = "",
  ) {
    super(message);
  }
}

/** What the stand-in needs of a runtime (a test may plug in its own). */
export interface ServiceRuntime {
  /** Stops what runs for `launch.key`, then starts `launch`; resolves once it listens. */
  deploy(launch: ServiceLaunch, hooks: DeployHooks): Promise<RunningService>;
  running(key: string): RunningService | undefined;
  stop(key: string): Promise<void>;
  /** Stops every server and removes the runtime's directories. */
  stopAll(): Promise<void>;
}

export const REHEARSAL_SUPPORTED_IMAGES = [RAILWAY_POSTGRES_SSL_IMAGE, REDIS_IMAGE] as const;

/** What an image's start function gets. */
export interface ImageStartContext {
  readonly launch: ServiceLaunch;
  /** The environment the container sees: Railway's own variables, then the service's. */
  readonly env: Readonly<Record<string, string>>;
  /** Local directory that stands for a path inside the container. */
  mapPath(containerPath: string): string;
  /** Scratch directory of this deployment, removed when it stops. */
  readonly scratchDir: string;
  /** The port this instance listened on last: tried first, so a redeploy keeps its address. */
  readonly preferredPort: number | undefined;
  readonly signal: AbortSignal;
  readonly startTimeoutMs: number;
  readonly onLine: (line: string) => void;
}

export interface StartedServer {
  readonly port: number;
  readonly containerPort: number;
  readonly process: GroupProcess;
  /** The image's stop signal, SIGKILL after `timeoutMs`. */
  stop(timeoutMs: number): Promise<ExitStatus>;
}

export interface LocalServiceRuntimeOptions {
  /**
   * Where volumes and scratch directories go. Default: a new temp dir (made at the first
   * deployment), removed by `stopAll`.
   */
  readonly rootDir?: string;
  /** How long a server may take to listen before its deployment CRASHES. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** How long a stop waits before SIGKILL. Default 15 s. */
  readonly stopTimeoutMs?: number;
  /** Every line a server prints, with its instance key. */
  readonly onLog?: (key: string, line: string) => void;
}

interface Current {
  readonly running: RunningService;
  readonly server: StartedServer;
  readonly scratchDir: string;
  stopping: boolean;
}

export class LocalServiceRuntime implements ServiceRuntime {
  #rootDir: string | undefined;
  readonly #ownsRoot: boolean;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #onLog: (key: string, line: string) => void;
  readonly #current = new Map<string, Current>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #ports = new Map<string, number>();
  readonly #shutdown = new AbortController();

  constructor(options: LocalServiceRuntimeOptions = {}) {
    this.#ownsRoot = options.rootDir === undefined;
    this.#rootDir = options.rootDir;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    this.#onLog = options.onLog ?? (() => undefined);
  }

  /** Where volumes and scratch directories are; undefined until the first deployment. */
  get rootDir(): string | undefined {
    return this.#rootDir;
  }

  #root(): string {
    this.#rootDir ??= mkdtempSync(join(tmpdir(), "synter-rehearse-"));
    // As root, Postgres runs as the `postgres` user, which must traverse into the volumes.
    chmodSync(this.#rootDir, 0o755);
    return this.#rootDir;
  }

  /** The local directory of a volume instance (created on first use, with `lost+found`). */
  volumeDir(volumeInstanceId: string): string {
    return join(this.#root(), "volumes", volumeInstanceId);
  }

  running(key: string): RunningService | undefined {
    return this.#current.get(key)?.running;
  }

  deploy(launch: ServiceLaunch, hooks: DeployHooks): Promise<RunningService> {
    return this.#enqueue(launch.key, () => this.#replace(launch, hooks));
  }

  stop(key: string): Promise<void> {
    return this.#enqueue(key, () => this.#stopCurrent(key));
  }

  async stopAll(): Promise<void> {
    this.#shutdown.abort(new Error("the rehearsal runtime is stopping"));
    await Promise.allSettled([...this.#queues.values()]);
    await Promise.allSettled([...this.#current.keys()].map((key) => this.#stopCurrent(key)));
    if (this.#ownsRoot && this.#rootDir) rmSync(this.#rootDir, { recursive: true, force: true });
  }

  /** One start or stop at a time per instance, in the order asked. */
  #enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.#queues.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }

  async #stopCurrent(key: string): Promise<void> {
    const current = this.#current.get(key);
    if (!current) return;
    current.stopping = true;
    await current.server.stop(this.#stopTimeoutMs);
    this.#current.delete(key);
    rmSync(current.scratchDir, { recursive: true, force: true });
  }

  async #replace(launch: ServiceLaunch, hooks: DeployHooks): Promise<RunningService> {
    const signal = AbortSignal.any([hooks.signal, this.#shutdown.signal]);
    // Superseded while queued: leave the running server to whoever comes next.
    signal.throwIfAborted();
    await this.#stopCurrent(launch.key);
    signal.throwIfAborted();
    const start = imageStartFunction(launch);
    const scratchDir = join(this.#root(), "deployments", launch.deploymentId);
    mkdirSync(scratchDir, { recursive: true, mode: 0o755 });
    let server: StartedServer;
    try {
      server = await start({
        launch,
        env: containerEnv(launch),
        mapPath: (containerPath) => this.#mapPath(launch, scratchDir, containerPath),
        scratchDir,
        preferredPort: this.#ports.get(launch.key),
        signal,
        startTimeoutMs: this.#startTimeoutMs,
        onLine: (line) => this.#onLog(launch.key, line),
      });
    } catch (error) {
      rmSync(scratchDir, { recursive: true, force: true });
      signal.throwIfAborted();
      if (error instanceof ServiceStartError) throw error;
      throw new ServiceStartError("CRASHED", (error as Error).message);
    }
    if (signal.aborted) {
      await server.stop(this.#stopTimeoutMs);
      rmSync(scratchDir, { recursive: true, force: true });
      signal.throwIfAborted();
    }
    this.#ports.set(launch.key, server.port);
    const running: RunningService = {
      key: launch.key,
      deploymentId: launch.deploymentId,
      host: "127.0.0.1",
      port: server.port,
      containerPort: server.containerPort,
      pid: server.process.pid,
    };
    const current: Current = { running, server, scratchDir, stopping: false };
    this.#current.set(launch.key, current);
    void server.process.exited.then((exit) => {
      if (current.stopping || this.#current.get(launch.key) !== current) return;
      this.#current.delete(launch.key);
      rmSync(scratchDir, { recursive: true, force: true });
      hooks.onExit(`the server exited (${describeExit(exit)})`, server.process.log());
    });
    return running;
  }

  #mapPath(launch: ServiceLaunch, scratchDir: string, containerPath: string): string {
    const normalized = posix.normalize(posix.resolve("/", containerPath));
    const volume = launch.volume;
    if (volume) {
      const mount = posix.normalize(volume.mountPath).replace(/\/+$/, "") || "/";
      const relative = posix.relative(mount, normalized);
      if (relative !== ".." && !relative.startsWith("../") && !posix.isAbsolute(relative)) {
        const dir = this.volumeDir(volume.instanceId);
        // A fresh ext4 volume holds lost+found, which is why initdb refuses the mount root.
        mkdirSync(join(dir, "lost+found"), { recursive: true, mode: 0o755 });
        chmodSync(dir, 0o755);
        return relative ? join(dir, relative) : dir;
      }
    }
    return join(scratchDir, "fs", normalized);
  }
}

function imageStartFunction(
  launch: ServiceLaunch,
): (context: ImageStartContext) => Promise<StartedServer> {
  switch (launch.image) {
    case RAILWAY_POSTGRES_SSL_IMAGE:
      return startPostgresSslImage;
    case REDIS_IMAGE:
      return startRedisImage;
    default:
      throw new ServiceStartError(
        "FAILED",
        `image not supported by the rehearsal runtime: ${launch.image ?? "(no image: a repo source)"} ` +
          `(it runs ${REHEARSAL_SUPPORTED_IMAGES.join(" and ")})`,
      );
  }
}

/** Railway injects these into every deployment; the service's own variables come after. */
function containerEnv(launch: ServiceLaunch): Record<string, string> {
  return {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    RAILWAY_PROJECT_ID: launch.projectId,
    RAILWAY_ENVIRONMENT_ID: launch.environmentId,
    RAILWAY_SERVICE_ID: launch.serviceId,
    RAILWAY_SERVICE_NAME: launch.serviceName,
    RAILWAY_DEPLOYMENT_ID: launch.deploymentId,
    RAILWAY_PRIVATE_DOMAIN: launch.privateHost,
    ...(launch.volume ? { RAILWAY_VOLUME_MOUNT_PATH: launch.volume.mountPath } : {}),
    ...launch.variables,
  };
}
