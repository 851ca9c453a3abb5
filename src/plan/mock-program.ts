/**
 * Runs a stack's Pulumi program under Pulumi's mock runtime and records what it registers. No
 * engine, no provider plugins, no cloud and no credentials: the config comes from the stack file
 * (secure values as placeholder secrets), resources get deterministic ids and outputs, and
 * StackReferences resolve to unknown values, exactly as a preview before the first deployment.
 *
 * The program is entered the way `index.ts` enters it — `loadConfig()` from `infra/config.ts`, then
 * `createPlatform(cfg)` from `infra/platform.ts` — so a plan needs no Pulumi CLI. Because the
 * runtime is process-global, one process plans one program at a time; `diff` plans each git ref in
 * its own process.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { UserError } from "../cli/errors";
import {
  normalizeWireValue,
  sortPlanResources,
  UNKNOWN_VALUE,
  type Plan,
  type PlannedResource,
} from "./resource-graph";
import { readStackConfig } from "./stack-config";

/** The slice of a RegisterResourceRequest (resource_pb) that the plan records. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getDeletebeforereplace(): boolean;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
  getDeletedwith(): string;
  getAliasesList(): { getUrn(): string; getSpec(): { getName(): string } | undefined }[];
}

/** What a read (a StackReference, `Resource.get`) carries: no options beyond its dependencies. */
interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
}

interface MonitorLike {
  registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): unknown;
  readResource(req: ReadRequest, callback: (...args: unknown[]) => void): unknown;
}

function stripProviderId(reference: string): string | null {
  if (reference === "") return null;
  const separator = reference.lastIndexOf("::");
  return separator > reference.indexOf("::pulumi:providers:")
    ? reference.slice(0, separator)
    : reference;
}

function urnFor(
  project: string,
  stack: string,
  parent: string,
  type: string,
  name: string,
): string {
  // Same rule as the mock monitor (and the engine): a child's type is qualified by its parent's.
  let qualifiedType = type;
  if (parent) {
    const parentType = parent.split("::")[2].split("$").pop();
    qualifiedType = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}

function recordRequest(project: string, stack: string, req: RegisterRequest): PlannedResource {
  const parent = req.getParent();
  const dependencies = new Set(req.getDependenciesList());
  const implied = new Set<string>();
  req.getPropertydependenciesMap().forEach((deps) => {
    for (const urn of deps.getUrnsList()) implied.add(urn);
  });
  const inputs = normalizeWireValue(req.getObject()?.toJavaScript() ?? {});
  return {
    urn: urnFor(project, stack, parent, req.getType(), req.getName()),
    type: req.getType(),
    name: req.getName(),
    parent: parent === "" ? null : parent,
    custom: req.getCustom(),
    inputs: (inputs ?? {}) as PlannedResource["inputs"],
    options: {
      protect: req.getProtect() === true,
      dependsOn: [...dependencies].filter((urn) => !implied.has(urn)).sort(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      retainOnDelete: req.getRetainondelete() === true,
      ignoreChanges: [...req.getIgnorechangesList()].sort(),
      replaceOnChanges: [...req.getReplaceonchangesList()].sort(),
      additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()].sort(),
      provider: stripProviderId(req.getProvider()),
      deletedWith: req.getDeletedwith() === "" ? null : req.getDeletedwith(),
      aliases: req
        .getAliasesList()
        .map((alias) => alias.getUrn() || `name:${alias.getSpec()?.getName() ?? ""}`)
        .sort(),
    },
  };
}

/** A read resource (e.g. the dev StackReference of a PR stack): shown, flagged as read. */
function recordRead(project: string, stack: string, req: ReadRequest): PlannedResource {
  const parent = req.getParent();
  const inputs = normalizeWireValue(req.getProperties()?.toJavaScript() ?? {});
  return {
    urn: urnFor(project, stack, parent, req.getType(), req.getName()),
    type: req.getType(),
    name: req.getName(),
    parent: parent === "" ? null : parent,
    custom: true,
    inputs: (inputs ?? {}) as PlannedResource["inputs"],
    options: {
      protect: false,
      dependsOn: [...req.getDependenciesList()].sort(),
      deleteBeforeReplace: false,
      retainOnDelete: false,
      ignoreChanges: [],
      replaceOnChanges: [],
      additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()].sort(),
      provider: stripProviderId(req.getProvider()),
      deletedWith: null,
      aliases: [],
    },
  };
}

/**
 * Deterministic outputs for resources whose real outputs are generated by the provider: a plan
 * must never contain anything random, and programs often build strings from these.
 */
export function mockOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const placeholder = `plan-placeholder-${name}`;
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: placeholder, bcryptHash: `$2a$10$${placeholder}` };
    case "random:index/randomString:RandomString":
      return { ...inputs, result: placeholder };
    case "random:index/randomId:RandomId":
      return { ...inputs, hex: "00000000", b64Url: "AAAAAA", b64Std: "AAAAAA==", dec: "0" };
    case "random:index/randomPet:RandomPet":
      return { ...inputs, id: placeholder };
    case "random:index/randomInteger:RandomInteger":
      return { ...inputs, result: Number(inputs.min ?? 0) };
    case "gcp:serviceaccount/account:Account": {
      const project = typeof inputs.project === "string" ? inputs.project : "plan-project";
      return { ...inputs, email: `${String(inputs.accountId)}@${project}.iam.gserviceaccount.com` };
    }
    case "gcp:organizations/project:Project":
      return { ...inputs, number: "000000000000" };
    case "pulumi:pulumi:StackReference":
      // Another stack's outputs cannot be read offline: unknown, as in a first preview.
      return { ...inputs, outputs: UNKNOWN_VALUE, secretOutputNames: [] };
    default:
      return { ...inputs };
  }
}

function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "gcp:organizations/getProject:getProject":
      return { ...inputs, projectId: inputs.projectId ?? "plan-project", number: "000000000000" };
    case "gcp:organizations/getClientConfig:getClientConfig":
      return {
        project: "plan-project",
        region: "us-central1",
        zone: "us-central1-a",
        accessToken: "",
      };
    default:
      return { ...inputs };
  }
}

export interface BuildPlanOptions {
  readonly projectDir: string;
  readonly stack: string;
}

type ProgramModule = Record<string, unknown>;

function requireProgramModule(file: string): ProgramModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as ProgramModule;
}

function resolveModule(projectDir: string, relative: string): string | null {
  for (const extension of [".ts", ".js"]) {
    const candidate = path.join(projectDir, `${relative}${extension}`);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

async function runProgram(projectDir: string): Promise<void> {
  const configFile = resolveModule(projectDir, "infra/config");
  const platformFile = resolveModule(projectDir, "infra/platform");
  if (configFile && platformFile) {
    const loadConfig = requireProgramModule(configFile).loadConfig;
    const createPlatform = requireProgramModule(platformFile).createPlatform;
    if (typeof loadConfig === "function" && typeof createPlatform === "function") {
      const cfg: unknown = await (loadConfig as () => unknown)();
      await (createPlatform as (c: unknown) => unknown)(cfg);
      return;
    }
  }
  // Older or simpler programs: the entry point registers everything when loaded.
  const entry = resolveModule(projectDir, "index");
  if (entry) {
    requireProgramModule(entry);
    return;
  }
  throw new UserError(
    `no Pulumi program in ${projectDir}: expected infra/config.ts (loadConfig) and infra/platform.ts (createPlatform), or index.ts`,
  );
}

async function settle(countRecorded: () => number): Promise<void> {
  // Registrations are chained on promises; wait until the runtime's RPC queue is drained and
  // nothing new arrived for a few turns of the event loop.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let quietTurns = 0;
  let last = -1;
  while (quietTurns < 5) {
    await settings.waitForRPCs();
    await new Promise((resolve) => setImmediate(resolve));
    const now = countRecorded();
    quietTurns = now === last ? quietTurns + 1 : 0;
    last = now;
  }
}

export async function buildPlan(options: BuildPlanOptions): Promise<Plan> {
  const projectDir = path.resolve(options.projectDir);
  const config = readStackConfig(projectDir, options.stack);
  const recorded = new Map<string, PlannedResource>();
  const failures: string[] = [];

  pulumi.runtime.setAllConfig({ ...config.values }, [...config.secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: mockOutputs(args.type, args.name, args.inputs as Record<string, unknown>),
      }),
      call: (args) => mockCall(args.token, args.inputs as Record<string, unknown>),
    },
    config.project,
    config.stack,
    true,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    try {
      const resource = recordRequest(config.project, config.stack, req);
      if (recorded.has(resource.urn)) failures.push(`duplicate resource URN ${resource.urn}`);
      recorded.set(resource.urn, resource);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
    return register(req, callback);
  };
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    const resource = recordRead(config.project, config.stack, req);
    recorded.set(resource.urn, resource);
    return read(req, callback);
  };

  // A resource whose construction fails rejects a promise nobody awaits; collect those as errors.
  const onRejection = (reason: unknown): void => {
    failures.push(reason instanceof Error ? reason.message : String(reason));
  };
  process.on("unhandledRejection", onRejection);
  try {
    try {
      await runProgram(projectDir);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(
        `the Pulumi program failed for stack "${options.stack}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    await settle(() => recorded.size);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (failures.length > 0) {
    throw new UserError(
      `the Pulumi program failed for stack "${options.stack}":\n  - ${[...new Set(failures)].join("\n  - ")}`,
    );
  }
  return {
    project: config.project,
    stack: config.stack,
    resources: sortPlanResources(recorded.values()),
  };
}
