/**
 * Runs a Pulumi program under the SDK's mock runtime and records every resource it registers:
 * type, name, inputs, and the options the engine would see (parent, dependsOn, protect), read from
 * the RegisterResource requests themselves — `setMocks`' own callback sees no options.
 * Config comes from `Pulumi.yaml` defaults plus `Pulumi.<stack>.yaml`, as the CLI merges them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { providerOutputs } from "./fake-provider-outputs";
import { parse as parseYaml } from "yaml";

export const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  /** Parent URN ("" at the stack root). */
  readonly parent: string;
  /** URNs of explicit and implicit (input) dependencies. */
  readonly dependencies: readonly string[];
  readonly protect: boolean;
  /** Registered through ReadResource (e.g. a StackReference) rather than created. */
  readonly read: boolean;
}

export interface StackConfig {
  readonly project: string;
  /** Fully qualified key → value as the runtime stores it (non-strings as JSON). */
  readonly values: Record<string, string>;
  readonly secretKeys: readonly string[];
}

function readYaml(file: string): Record<string, unknown> {
  return (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
}

/** A `secure:` value anywhere inside makes the whole key secret, as in the CLI. */
function containsSecureValue(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (!Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) return true;
  return Object.values(value).some(containsSecureValue);
}

function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The stack's config as the CLI hands it to the program: project-level defaults, then the stack
 * file. `stackFile` overrides the file name (e.g. a rendered PR template).
 */
export function readStackConfig(
  stack: string,
  options: { stackFileText?: string; root?: string } = {},
): StackConfig {
  const root = options.root ?? REPOSITORY_ROOT;
  const projectYaml = readYaml(path.join(root, "Pulumi.yaml"));
  const project = String(projectYaml.name);
  const qualify = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const values: Record<string, string> = {};
  const declarations = (projectYaml.config ?? {}) as Record<string, unknown>;
  for (const [key, declaration] of Object.entries(declarations)) {
    if (typeof declaration === "object" && declaration !== null && "default" in declaration) {
      values[qualify(key)] = asConfigString((declaration as { default: unknown }).default);
    }
  }
  const stackText =
    options.stackFileText ?? fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8");
  const stackYaml = (parseYaml(stackText) ?? {}) as { config?: Record<string, unknown> };
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(stackYaml.config ?? {})) {
    values[qualify(key)] = asConfigString(value);
    if (containsSecureValue(value)) {
      secretKeys.push(qualify(key));
    }
  }
  return { project, values, secretKeys };
}

export interface RunOptions {
  readonly project: string;
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly secretKeys?: readonly string[];
  /** Outputs of referenced stacks, keyed by the reference name (`org/project/stack`). */
  readonly stackOutputs?: Record<string, Record<string, unknown>>;
}

export interface StackRun<T> {
  readonly resources: readonly RecordedResource[];
  readonly result: T;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
}

interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
}

type Callback = (error: unknown, response?: unknown) => void;

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
  readResource(req: ReadRequest, callback: Callback): Promise<void>;
}

// Internal SDK modules: the monitor and the RPC queue are what a real `pulumi up` waits on too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): unknown;
  waitForRPCs(): Promise<void>;
};

/** Values the mocked providers compute, so outputs like a service account's email exist. */
function mockState(type: string, name: string, inputs: Record<string, unknown>) {
  switch (type) {
    case "gcp:serviceaccount/account:Account":
      return {
        ...inputs,
        email: `${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`,
      };
    default:
      return { ...inputs, mockName: name, ...providerOutputs(type, name, inputs) };
  }
}

/**
 * Runs `program` as stack `stack` of `project` under the mock runtime and waits until every
 * resource is registered. The runtime is process-global: runs must not overlap.
 */
export async function runUnderMocks<T>(
  options: RunOptions,
  program: () => T,
): Promise<StackRun<Awaited<T>>> {
  const resources: RecordedResource[] = [];
  const pending = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        if (args.type === "pulumi:pulumi:StackReference") {
          const referenced = String(args.inputs.name);
          return {
            id: referenced,
            state: {
              name: referenced,
              outputs: options.stackOutputs?.[referenced] ?? {},
              secretOutputNames: [],
            },
          };
        }
        pending.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    options.project,
    options.stack,
    false,
  );
  pulumi.runtime.setAllConfig(options.config, [...(options.secretKeys ?? [])]);

  const monitor = settings.getMonitor() as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req, callback) =>
    register(req, (error, response) => {
      const urnOf = (response as { getUrn?: () => string } | undefined)?.getUrn?.();
      if (!error && urnOf) {
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: urnOf,
          custom: req.getCustom(),
          inputs: pending.get(`${req.getType()}::${req.getName()}`) ?? {},
          parent: req.getParent(),
          dependencies: [...req.getDependenciesList()].sort(),
          protect: req.getProtect() === true,
          read: false,
        });
      }
      callback(error, response);
    });
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = async (req, callback) =>
    read(req, (error, response) => {
      const urnOf = (response as { getUrn?: () => string } | undefined)?.getUrn?.();
      if (!error && urnOf) {
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: urnOf,
          custom: true,
          inputs: {},
          parent: req.getParent(),
          dependencies: [],
          protect: false,
          read: true,
        });
      }
      callback(error, response);
    });

  const result = await program();
  await settings.waitForRPCs();
  return { resources, result };
}

/** Resolves an output's value under the mock runtime. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Finds the one resource of a type and name, failing loudly otherwise. */
export function resourceNamed(
  resources: readonly RecordedResource[],
  type: string,
  name: string,
): RecordedResource {
  const matches = resources.filter((r) => r.type === type && r.name === name);
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
  }
  return matches[0];
}
