/**
 * Waiting until a Railway service is really up. Railway answers a deploy at once and builds,
 * starts and swaps the container afterwards; the postgresql provider that comes next connects
 * once, without retry, so every create or update that deploys waits here — bounded, with
 * progress on stderr (Pulumi shows a provider's stderr in its log) — for the deployment to
 * succeed and then for the endpoint to answer in the service's own protocol: a TCP proxy
 * accepts connections before the server behind it does.
 */
import * as net from "node:net";
import type { RailwayApi, RailwayDeploymentStatus } from "./operations";

/** How a resource waits; `sleep`, `now` and `probe` are injectable so tests control them. */
export interface ReadinessClock {
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly log: (message: string) => void;
  readonly probe: (host: string, port: number, protocol: EndpointProtocol) => Promise<boolean>;
}

export interface WaitOptions extends ReadinessClock {
  /** What is waited for, as the error names it: `RailwayPostgres "postgres"`. */
  readonly subject: string;
  readonly timeoutSeconds: number;
  /** Between two polls. Default 2 s. */
  readonly pollIntervalMs?: number;
}

/** A deployment that ended without success, or did not end in time. */
export class RailwayDeploymentError extends Error {
  override readonly name = "RailwayDeploymentError";
  constructor(
    readonly subject: string,
    readonly deploymentId: string,
    /** The last status seen; `undefined` when Railway never answered with one. */
    readonly status: RailwayDeploymentStatus | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** An endpoint that did not answer in its protocol in time. */
export class ServiceEndpointError extends Error {
  override readonly name = "ServiceEndpointError";
}

// Statuses a deployment passes through on its way to SUCCESS.
const IN_PROGRESS: ReadonlySet<RailwayDeploymentStatus> = new Set([
  "QUEUED",
  "WAITING",
  "INITIALIZING",
  "BUILDING",
  "DEPLOYING",
]);

const DEFAULT_POLL_MS = 2_000;
const HEARTBEAT_MS = 30_000;

export async function waitForDeployment(
  api: RailwayApi,
  deploymentId: string,
  options: WaitOptions,
): Promise<void> {
  const started = options.now();
  const deadline = started + options.timeoutSeconds * 1000;
  let last: RailwayDeploymentStatus | undefined;
  let lastLogged = started;
  const elapsed = () => Math.round((options.now() - started) / 1000);
  for (;;) {
    const deployment = await api.getDeployment(deploymentId);
    const status = deployment?.status;
    if (status === "SUCCESS") {
      options.log(`${options.subject}: deployment ${deploymentId} SUCCESS after ${elapsed()} s`);
      return;
    }
    if (status !== undefined && !IN_PROGRESS.has(status)) {
      throw new RailwayDeploymentError(
        options.subject,
        deploymentId,
        status,
        `${options.subject}: deployment ${deploymentId} ended ${status}` +
          `${status === "REMOVED" ? " (superseded by another deployment)" : ""}; ` +
          `read its logs in Railway (railway logs --deployment ${deploymentId}), then run \`pulumi up\` again`,
      );
    }
    if (status !== last || options.now() - lastLogged >= HEARTBEAT_MS) {
      options.log(
        `${options.subject}: deployment ${deploymentId} ${status ?? "not visible yet"} (${elapsed()} s)`,
      );
      last = status;
      lastLogged = options.now();
    }
    if (options.now() >= deadline) {
      throw new RailwayDeploymentError(
        options.subject,
        deploymentId,
        status,
        `${options.subject}: deployment ${deploymentId} not ready after ${options.timeoutSeconds} s ` +
          `(last status ${status ?? "unknown"}); look at it in Railway, then run \`pulumi up\` again ` +
          "(raise readyTimeoutSeconds if it is only slow)",
      );
    }
    await options.sleep(options.pollIntervalMs ?? DEFAULT_POLL_MS);
  }
}

/** The protocols a readiness probe speaks; `tcp` only checks that a connection stays open. */
export type EndpointProtocol = "postgres" | "redis" | "tcp";

export const ENDPOINT_PROTOCOLS: readonly EndpointProtocol[] = ["postgres", "redis", "tcp"];

// Postgres's SSLRequest: length 8, code 80877103. Any server answers one byte, S or N, before
// authentication, so the probe needs no credentials.
const POSTGRES_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const PROBE_TIMEOUT_MS = 5_000;
// A proxy with nothing behind it accepts and then resets; a plain TCP probe waits this long.
const TCP_SETTLE_MS = 300;

/** One attempt: resolves true when the endpoint answered as its protocol does. */
export function probeEndpoint(
  host: string,
  port: number,
  protocol: EndpointProtocol,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("close", () => finish(false));
    socket.once("connect", () => {
      switch (protocol) {
        case "postgres":
          socket.write(POSTGRES_SSL_REQUEST);
          break;
        case "redis":
          socket.write("PING\r\n");
          break;
        case "tcp":
          setTimeout(() => finish(true), TCP_SETTLE_MS);
          break;
        default: {
          const unknown: never = protocol;
          throw new Error(`unknown protocol ${String(unknown)}`);
        }
      }
    });
    socket.once("data", (data: Buffer) => {
      switch (protocol) {
        case "postgres":
          finish(data[0] === 0x53 || data[0] === 0x4e);
          break;
        case "redis":
          // +PONG without a password, -NOAUTH with one: either way Redis is answering.
          finish(/^(\+PONG|-NOAUTH)/.test(data.toString("latin1")));
          break;
        case "tcp":
          finish(true);
          break;
      }
    });
  });
}

export async function waitForEndpoint(
  host: string,
  port: number,
  protocol: EndpointProtocol,
  options: WaitOptions,
): Promise<void> {
  const started = options.now();
  const deadline = started + options.timeoutSeconds * 1000;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    if (await options.probe(host, port, protocol)) {
      options.log(
        `${options.subject}: ${host}:${port} answers ${protocol} after ${Math.round((options.now() - started) / 1000)} s`,
      );
      return;
    }
    if (attempts === 1) options.log(`${options.subject}: waiting for ${host}:${port} to answer`);
    if (options.now() >= deadline) {
      throw new ServiceEndpointError(
        `${options.subject}: ${host}:${port} did not answer ${protocol} within ` +
          `${options.timeoutSeconds} s (${attempts} attempts); the deployment succeeded but the ` +
          "server is not accepting connections — read the service's logs in Railway",
      );
    }
    await options.sleep(options.pollIntervalMs ?? DEFAULT_POLL_MS);
  }
}
