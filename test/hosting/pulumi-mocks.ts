/**
 * Pulumi's mock runtime for the hosting, credentials and app tests: records every resource the
 * program registers (type, name, inputs) and answers with the outputs the real providers compute
 * (addresses, the Redis AUTH string, a key file), using obviously fake values. Nothing happens at
 * import: a suite installs the mocks with `beforeAll(installHostingMocks)`.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../src/pulumi/mock-runtime";
import { fakeKeyFile, isSecretInput, providerOutputs } from "../support/fake-provider-outputs";

export { fakeKeyFile, isSecretInput };

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export const recorded: RecordedResource[] = [];

const hostingMocks: pulumi.runtime.Mocks = {
  newResource(args) {
    // Dynamic resources carry their serialised provider as an input: not what tests compare.
    const { __provider: _provider, ...inputs } = args.inputs as Record<string, unknown>;
    recorded.push({ type: args.type, name: args.name, inputs });
    return {
      id: `${args.name}-id`,
      state: { ...args.inputs, ...providerOutputs(args.type, args.name, args.inputs) },
    };
  },
  call: (args) => args.inputs,
};

/** Points the runtime at these mocks for the rest of the test file (call it in `beforeAll`). */
export function installHostingMocks(): Promise<void> {
  return installMocks({ project: "synter", stack: "test", preview: false, mocks: hostingMocks });
}

export function resetRecorded(): void {
  recorded.length = 0;
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Lets every registration started so far reach the mocks. */
export async function settle(...outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map(valueOf));
  await new Promise((resolve) => setImmediate(resolve));
}

/** Resource options of every child, captured by a transformation on the component. */
export interface CapturedOptions {
  readonly protect: boolean | undefined;
  readonly deleteBeforeReplace: boolean | undefined;
  readonly dependsOn: readonly pulumi.Resource[];
  readonly additionalSecretOutputs: readonly string[];
}

export function captureOptions(into: Map<string, CapturedOptions>): pulumi.ResourceTransformation {
  return ({ name, opts }) => {
    const custom = opts as pulumi.CustomResourceOptions;
    into.set(name, {
      protect: opts.protect,
      deleteBeforeReplace: custom.deleteBeforeReplace,
      dependsOn:
        opts.dependsOn === undefined
          ? []
          : ([] as pulumi.Resource[]).concat(opts.dependsOn as pulumi.Resource[]),
      additionalSecretOutputs: custom.additionalSecretOutputs ?? [],
    });
    return undefined;
  };
}

export function summary(): string[] {
  return recorded.map((resource) => `${resource.type} ${resource.name}`).sort();
}

export function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = recorded.find((resource) => resource.type === type && resource.name === name);
  if (found === undefined)
    throw new Error(`no ${type} named ${name}; have ${summary().join(", ")}`);
  return found.inputs;
}
