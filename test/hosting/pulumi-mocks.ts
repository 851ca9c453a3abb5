/**
 * Pulumi's mock runtime for the hosting, credentials and app tests: records every resource the
 * program registers (type, name, inputs) and answers with the outputs the real providers compute
 * (addresses, the Redis AUTH string, a key file), using obviously fake values.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export const recorded: RecordedResource[] = [];

/** A fake key file, as the provider returns it: base64 of the JSON. */
export function fakeKeyFile(name: string): string {
  return JSON.stringify({ type: "service_account", private_key_id: `id-${name}` });
}

function unwrapSecret(value: unknown): unknown {
  return isSecretInput(value) ? (value as { value: unknown }).value : value;
}

function providerOutputs(type: string, name: string, inputs: Record<string, unknown>) {
  switch (type) {
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return {
        name,
        publicIpAddress: "203.0.113.10",
        connectionName: `${String(inputs.project)}:${String(inputs.region)}:${name}`,
      };
    case "gcp:redis/instance:Instance":
      return {
        host: "10.20.0.3",
        port: 6378,
        authString: `auth/${name}@x`,
        serverCaCerts: [{ cert: "CERT-1" }, { cert: "CERT-2" }],
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: `pw-${name}` };
    case "pulumi-nodejs:dynamic/railway:RailwayProject":
      return {
        projectId: inputs.existingProjectId ?? `project-${name}`,
        environmentId: inputs.existingEnvironmentId ?? `environment-${name}`,
      };
    case "pulumi-nodejs:dynamic/railway:RailwayPostgres":
      return {
        serviceId: `service-${name}`,
        privateHost: `${String(inputs.serviceName)}.railway.internal`,
        port: 5432,
        user: "postgres",
        database: "railway",
      };
    case "pulumi-nodejs:dynamic/railway:RailwayRedis":
      return {
        serviceId: `service-${name}`,
        privateHost: `${String(inputs.serviceName)}.railway.internal`,
        port: 6379,
        url: `redis://default:${String(unwrapSecret(inputs.password))}@${String(inputs.serviceName)}.railway.internal:6379`,
      };
    case "pulumi-nodejs:dynamic/railway:RailwayTcpProxy":
      return { domain: "shuttle.proxy.rlwy.net", proxyPort: 41234 };
    case "gcp:serviceaccount/key:Key":
      return { privateKey: Buffer.from(fakeKeyFile(name)).toString("base64") };
    default:
      return {};
  }
}

pulumi.runtime.setMocks(
  {
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
  },
  "synter",
  "test",
  false,
);

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

/** The mock runtime hands secret inputs over wrapped with Pulumi's secret signature. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === "1b47061264138c4ac30d75fd1eb44270"
  );
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
