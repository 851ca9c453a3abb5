/**
 * `synter-infra rehearse --stack <s>`: a stack's first `pulumi up`, played as faithfully as this
 * machine allows (DESIGN §5), then what must hold after it:
 *
 * 1. `up` on a fresh state, through Pulumi's dynamic-provider host, against a Railway stand-in
 *    that fails the way Railway does (asynchronous deployments, 429s, TCP proxies that accept
 *    connections only once deployed) and runs real servers: Postgres 15 with TLS on a self-signed
 *    certificate and a non-superuser admin, Redis started with its resource's start command;
 * 2. the app's contract over the URLs the stack outputs (node-pg Pool, ioredis, a BullMQ job);
 * 3. `up` again with no change: nothing created, updated, replaced or deleted;
 * 4. `up` with one setting changed (Redis's start command): that service updated in place and
 *    running with the new setting, nothing else touched;
 * 5. `destroy` (as after `synter-infra teardown` lifted protection): nothing left on Railway or in
 *    Postgres.
 *
 * A `pr-<n>` stack reads dev's outputs through its StackReference, so dev is rehearsed first in the
 * same world and destroyed last. What it cannot prove is listed in the README (GCP is simulated).
 */
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { prAuthDatabaseName } from "../../schema/roles";
import { ToolError } from "../errors/tool-error";
import { connectPostgresClient } from "../migrate/postgres-tls";
import {
  checkPostgresContract,
  checkRedisContract,
  redisConfigValue,
  type ContractCheck,
  type Route,
} from "./app-contract";
import { StackState, rehearseDestroy, rehearseUp, type Step } from "./deployment-engine";
import { RailwayStandInServer } from "./railway-stand-in";
import { LocalServiceRuntime } from "./service-runtime";

type Props = Record<string, unknown>;

export interface RehearsalOptions {
  readonly projectDir: string;
  readonly stack: string;
  readonly log: (line: string) => void;
  /** Every n-th Railway request is answered 429 with Retry-After. Default 7. */
  readonly rateLimitEvery?: number;
}

export interface PhaseReport {
  readonly phase: string;
  readonly ms: number;
  readonly counts: Readonly<Record<string, number>>;
}

export interface StackReport {
  readonly stack: string;
  readonly phases: readonly PhaseReport[];
  readonly contract: readonly ContractCheck[];
  readonly ms: number;
}

/**
 * The deploy would fail, or leave something wrong: one line naming the stack, the phase and the
 * cause. Kind `mismatch`: the program and what the (stand-in) cloud does disagree; `interrupted`
 * when a signal stopped the rehearsal.
 */
export class RehearsalFailure extends ToolError {
  constructor(
    readonly stack: string,
    readonly phase: string,
    message: string,
    kind: "mismatch" | "interrupted" = "mismatch",
  ) {
    super(kind, `rehearse ${stack}, ${phase}: ${message}`);
  }
}

const RAILWAY_REDIS = "pulumi-nodejs:dynamic/railway:RailwayRedis";
/** The edit played in phase 4: a stricter AOF fsync, a setting only the start command carries. */
const CHANGED_FSYNC = "always";

function countsOf(steps: readonly Step[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const step of steps) counts[step.operation] = (counts[step.operation] ?? 0) + 1;
  return counts;
}

const COUNT_WORDS: ReadonlyArray<readonly [string, string]> = [
  ["create", "created"],
  ["update", "updated in place"],
  ["replace", "replaced"],
  ["delete", "deleted"],
  ["same", "unchanged"],
  ["simulated", "simulated (GCP)"],
  ["checks", "checks passed"],
];

function describeCounts(counts: Readonly<Record<string, number>>): string {
  return COUNT_WORDS.filter(([key]) => counts[key])
    .map(([key, words]) => `${counts[key]} ${words}`)
    .join(", ");
}

function changesOf(steps: readonly Step[]): Step[] {
  return steps.filter((step) => step.operation !== "same" && step.operation !== "simulated");
}

function appEnvOf(outputs: Props): Record<string, string> {
  const env = outputs.appEnv;
  if (!env || typeof env !== "object") throw new Error("the stack has no appEnv output");
  return env as Record<string, string>;
}

export async function rehearseStack(options: RehearsalOptions): Promise<StackReport> {
  const started = Date.now();
  const projectDir = path.resolve(options.projectDir);
  const { stack, log } = options;
  const token = `rehearsal-${randomUUID()}`;
  const runtime = new LocalServiceRuntime({
    onLog: (key, line) => {
      if (/FATAL|ERROR|panic/i.test(line)) log(`    [${key}] ${line}`);
    },
  });
  const railway = new RailwayStandInServer(token, {
    // Long enough that a provider which does not wait uses the service before it is up.
    deploymentPhases: { queuedMs: 200, buildingMs: 600, deployingMs: 400 },
    rateLimit: { every: options.rateLimitEvery ?? 7 },
    runtime,
  });
  // Registrations still in flight when a step fails reject after the program has given up: the
  // failure is reported once, by the step.
  const ignoreLateRejection = () => undefined;
  process.on("unhandledRejection", ignoreLateRejection);
  // Ctrl-C or a CI timeout: stop the servers the stand-in runs before leaving (the runtime's
  // reaper only covers a parent that dies without a chance to clean up).
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    log(`${stack}: ${signal}, stopping the stand-in's servers`);
    void Promise.allSettled([railway.stop(), runtime.stopAll()]).then(() => {
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  await railway.start();
  const phases: PhaseReport[] = [];
  const contract: ContractCheck[] = [];
  const referenced = new Map<string, Props>();
  const extraConfig = { "railway:token": token, "railway:endpoint": railway.url };
  const engine = (target: string, state: StackState) => ({
    projectDir,
    stack: target,
    extraConfig,
    extraSecretKeys: ["railway:token"],
    referencedStacks: referenced,
    state,
    log,
  });
  const route: Route = (host, port) =>
    host.endsWith(".railway.internal") ? railway.privateEndpoint(host, port) : { host, port };
  let phase = "set-up";
  const timedPhase = async <T>(
    name: string,
    body: () => Promise<T>,
    counts?: (value: T) => Record<string, number>,
  ): Promise<T> => {
    phase = name;
    log(`${stack}: ${name}`);
    const phaseStarted = Date.now();
    const value = await body();
    const report = { phase: name, ms: Date.now() - phaseStarted, counts: counts?.(value) ?? {} };
    phases.push(report);
    log(
      `${stack}: ${name} — ${describeCounts(report.counts) || "done"} (${(report.ms / 1000).toFixed(1)} s)`,
    );
    return value;
  };

  const devState = new StackState();
  const state = new StackState();
  const isPr = /^pr-\d+$/.test(stack);
  try {
    if (isPr) {
      const dev = await timedPhase(
        "up dev (the servers a PR stack reuses)",
        () => rehearseUp(engine("dev", devState)),
        (r) => countsOf(r.steps),
      );
      referenced.set("dev", dev.outputs);
    }
    const first = await timedPhase(
      "up",
      () => rehearseUp(engine(stack, state)),
      (r) => countsOf(r.steps),
    );
    const unexpected = first.steps.filter(
      (step) =>
        step.operation !== "create" &&
        step.operation !== "simulated" &&
        step.type !== "pulumi:pulumi:StackReference",
    );
    if (unexpected.length > 0) {
      throw new Error(
        `a first up should only create, but: ${unexpected.map((s) => `${s.operation} ${s.name}`).join(", ")}`,
      );
    }

    await timedPhase(
      "app contract",
      async () => {
        const env = appEnvOf(first.outputs);
        await checkPostgresContract(env.POSTGRES_URL, route, contract);
        await checkRedisContract(env.REDIS_URL, route, contract);
        return contract;
      },
      (checks) => ({ checks: checks.length }),
    );

    const second = await timedPhase(
      "up again, nothing changed",
      () => rehearseUp(engine(stack, state)),
      (r) => countsOf(r.steps),
    );
    const changed = changesOf(second.steps);
    if (changed.length > 0) {
      throw new Error(
        `an up with no change changed ${changed.map((s) => `${s.operation} ${s.type} ${s.name}`).join(", ")}`,
      );
    }

    if ([...state.resources.values()].some((resource) => resource.type === RAILWAY_REDIS)) {
      const third = await timedPhase(
        "up with Redis's appendfsync changed",
        () =>
          rehearseUp({
            ...engine(stack, state),
            editInputs: (type, _name, inputs) =>
              type === RAILWAY_REDIS && typeof inputs.startCommand === "string"
                ? {
                    ...inputs,
                    startCommand: inputs.startCommand.replace(
                      "--appendfsync everysec",
                      `--appendfsync ${CHANGED_FSYNC}`,
                    ),
                  }
                : inputs,
          }),
        (r) => countsOf(r.steps),
      );
      const edits = changesOf(third.steps).map((s) => `${s.operation} ${s.type}`);
      if (JSON.stringify(edits) !== JSON.stringify([`update ${RAILWAY_REDIS}`])) {
        throw new Error(
          `changing the start command should update RailwayRedis in place and nothing else, but: ${edits.join(", ") || "nothing changed"}`,
        );
      }
      const fsync = await redisConfigValue(appEnvOf(third.outputs).REDIS_URL, route, "appendfsync");
      if (fsync !== CHANGED_FSYNC) {
        throw new Error(
          `Redis runs with appendfsync ${fsync} after the update, not ${CHANGED_FSYNC}`,
        );
      }
    }

    await timedPhase("destroy", () => rehearseDestroy(engine(stack, state)), countsOf);
    await timedPhase(
      "nothing left",
      () => assertNothingLeft(railway, stack, isPr ? devState : undefined),
      () => ({}),
    );
    if (isPr) {
      await timedPhase("destroy dev", () => rehearseDestroy(engine("dev", devState)), countsOf);
      await timedPhase(
        "nothing left of dev",
        () => assertNothingLeft(railway, "dev", undefined),
        () => ({}),
      );
    }
  } catch (error) {
    if (interruptedBy) {
      throw new RehearsalFailure(
        stack,
        phase,
        `interrupted by ${interruptedBy}; the stand-in's servers are stopped, nothing is left running`,
        "interrupted",
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new RehearsalFailure(stack, phase, message);
  } finally {
    await railway.stop();
    await runtime.stopAll();
    process.off("unhandledRejection", ignoreLateRejection);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return { stack, phases, contract, ms: Date.now() - started };
}

async function assertNothingLeft(
  railway: RailwayStandInServer,
  stack: string,
  devState: StackState | undefined,
): Promise<void> {
  if (!devState) {
    const left = [
      ...[...railway.state.services.values()].map((s) => `service ${s.name}`),
      ...[...railway.state.volumes.values()].map((v) => `volume ${v.id}`),
      ...[...railway.state.tcpProxies.values()].map((p) => `TCP proxy ${p.domain}:${p.proxyPort}`),
      ...[...railway.state.projects.values()].map((p) => `project ${p.name}`),
    ];
    if (left.length > 0) throw new Error(`left on Railway: ${left.join(", ")}`);
    return;
  }
  // A PR stack lives on dev's server: its database and roles must be gone, dev's untouched.
  const prNumber = Number(stack.slice("pr-".length));
  const database = prAuthDatabaseName(prNumber);
  const outputs = devState.outputs;
  const url =
    `postgresql://${encodeURIComponent(String(outputs.postgresAdminUser))}:${encodeURIComponent(String(outputs.postgresAdminPassword))}` +
    `@${String(outputs.postgresAdminHost)}:${String(outputs.postgresAdminPort)}/postgres?sslmode=${String(outputs.postgresSslMode)}`;
  const client = await connectPostgresClient(url);
  try {
    const { rows } = await client.query<{ what: string }>(
      `SELECT 'database ' || datname AS what FROM pg_database WHERE datname = $1
       UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE $1 || '\\_%'`,
      [database],
    );
    if (rows.length > 0)
      throw new Error(`left in dev's Postgres: ${rows.map((r) => r.what).join(", ")}`);
  } finally {
    await client.end();
  }
}

/** One line per stack, for the end of the output. */
export function summaryLine(report: StackReport): string {
  const parts = report.phases.map((p) => `${p.phase}: ${describeCounts(p.counts) || "ok"}`);
  return `rehearse ${report.stack}: ok in ${(report.ms / 1000).toFixed(1)} s — ${parts.join("; ")}`;
}
