/**
 * The only module that reaches into @pulumi/pulumi beyond its public API. Each entry says why the
 * public surface does not suffice; an SDK upgrade that moves one of them breaks here, in one place,
 * and `test/pulumi/internals.test.ts` says which.
 *
 * Loaded lazily (`require` inside each function) so that importing this module costs nothing in
 * the dynamic-provider process, where only the sentinel is needed.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- internals are loaded on demand */

/**
 * What the engine sends for a value not known yet (preview). Public as `runtime/rpc`'s
 * `unknownValue`, but that module drags the SDK's gRPC stack into a provider process that only
 * needs the string; `test/pulumi/internals.test.ts` pins the two together.
 */
export const PULUMI_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The SDK's own copy of the sentinel (for the test that pins ours to it). */
export function sdkUnknownValue(): string {
  return (require("@pulumi/pulumi/runtime/rpc") as { unknownValue: string }).unknownValue;
}

interface RuntimeSettings {
  getMonitor(): unknown;
  waitForRPCs(): Promise<void>;
}

function settings(): RuntimeSettings {
  return require("@pulumi/pulumi/runtime/settings") as RuntimeSettings;
}

/**
 * The resource monitor the runtime sends registrations to. Under `setMocks` it is the mock
 * monitor; wrapping its `registerResource` is the only way to see resource *options* (parent,
 * dependsOn, protect), which the public mock callback never receives.
 */
export function resourceMonitor(): unknown {
  return settings().getMonitor();
}

/** Resolves when every registration the program started has been answered. */
export function waitForPendingRegistrations(): Promise<void> {
  return settings().waitForRPCs();
}

/**
 * Whether a config key was set with `--secret`. Public only asynchronously (`getSecret` +
 * `isSecret`); the config loader needs it synchronously.
 */
export function isConfigSecret(fullKey: string): boolean {
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    isConfigSecret?: (key: string) => boolean;
  };
  return runtimeConfig.isConfigSecret?.(fullKey) ?? false;
}

/**
 * An Output's value, rejecting when the Output failed. Public `apply` never calls back for a
 * failed Output, so awaiting a stack's outputs through it would wait for ever.
 */
export function outputValue<T>(output: import("@pulumi/pulumi").Output<T>): Promise<T> {
  return (output as unknown as { promise(withUnknowns?: boolean): Promise<T> }).promise(true);
}

/** Path of the SDK's dynamic-provider host, the program `pulumi up` runs dynamic resources in. */
export function dynamicProviderHostPath(): string {
  return require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js");
}

/** The generated gRPC bindings of the provider protocol (what the engine speaks to a provider). */
export interface ProviderProtocol {
  readonly grpc: typeof import("@grpc/grpc-js");
  readonly service: Record<string, unknown> & {
    ResourceProviderClient: new (...args: never[]) => unknown;
  };
  readonly messages: Record<string, new () => unknown>;
  readonly Struct: {
    fromJavaScript(value: Record<string, unknown>): unknown;
  };
}

export function providerProtocol(): ProviderProtocol {
  // The SDK's own @grpc/grpc-js, so the client and the generated stubs agree on its version.
  const sdkRequire = require("node:module").createRequire(
    require.resolve("@pulumi/pulumi/package.json"),
  ) as NodeRequire;
  return {
    grpc: sdkRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js"),
    service: require("@pulumi/pulumi/proto/provider_grpc_pb") as ProviderProtocol["service"],
    messages: require("@pulumi/pulumi/proto/provider_pb") as ProviderProtocol["messages"],
    Struct: (
      sdkRequire("google-protobuf/google/protobuf/struct_pb") as {
        Struct: ProviderProtocol["Struct"];
      }
    ).Struct,
  };
}
