/**
 * Runs a Pulumi program under the SDK's mock runtime (through `src/pulumi/mock-runtime.ts`, the one
 * runner) and records every resource it registers: type, name, inputs, and the options the engine
 * would see (parent, dependsOn, protect), read from the RegisterResource requests themselves —
 * `setMocks`' own callback sees no options. Config comes from `src/plan/stack-config.ts`, the CLI's
 * reader of `Pulumi.yaml` defaults plus `Pulumi.<stack>.yaml`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  readStackConfig as readProjectStackConfig,
  type StackConfig,
} from "../../src/plan/stack-config";
import { runUnderMockRuntime } from "../../src/pulumi/mock-runtime";
import { providerOutputs } from "./fake-provider-outputs";

export type { StackConfig };

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

/**
 * The stack's config as the CLI hands it to the program: project-level defaults, then the stack
 * file. `stackFileText` stands in for the stack file (e.g. a rendered PR template).
 */
export function readStackConfig(
  stack: string,
  options: { stackFileText?: string; root?: string } = {},
): StackConfig {
  return readProjectStackConfig(options.root ?? REPOSITORY_ROOT, stack, {
    stackFileText: options.stackFileText,
  });
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
  /** In the order the monitor received them. */
  readonly resources: readonly RecordedResource[];
  readonly result: T;
}

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
  // The mock's arguments carry the inputs deserialized (what tests compare), the monitor's request
  // their wire form: keep the former, per type and name in registration order.
  const inputsByKey = new Map<string, Record<string, unknown>[]>();
  const run = await runUnderMockRuntime<Awaited<T>>({
    project: options.project,
    stack: options.stack,
    config: options.config,
    secretKeys: options.secretKeys,
    preview: false,
    mocks: {
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
        const key = `${args.type}::${args.name}`;
        inputsByKey.set(key, [...(inputsByKey.get(key) ?? []), args.inputs]);
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    program: async (): Promise<Awaited<T>> => await program(),
  });
  const resources = run.registrations.map(({ kind, urn, request: req }): RecordedResource => {
    if (kind === "read") {
      return {
        type: req.getType(),
        name: req.getName(),
        urn,
        custom: true,
        inputs: {},
        parent: req.getParent(),
        dependencies: [],
        protect: false,
        read: true,
      };
    }
    return {
      type: req.getType(),
      name: req.getName(),
      urn,
      custom: req.getCustom(),
      inputs: inputsByKey.get(`${req.getType()}::${req.getName()}`)?.shift() ?? {},
      parent: req.getParent(),
      dependencies: [...req.getDependenciesList()].sort(),
      protect: req.getProtect() === true,
      read: false,
    };
  });
  return { resources, result: run.result };
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
