/**
 * The one way this repository runs a Pulumi program without an engine: the SDK's mock runtime
 * (`pulumi.runtime.setMocks`), with every registration recorded as the engine would receive it —
 * inputs *and* resource options (parent, dependsOn, protect…), which the public mock callback
 * never sees. `plan`, `rehearse` and the tests all go through here (`installMocks` for test files
 * that construct resources outside a program run).
 *
 * The runtime is process-global: one program at a time per process (runs may follow each other).
 */
import * as pulumi from "@pulumi/pulumi";
import { resourceMonitor, waitForPendingRegistrations } from "../../infra/pulumi-internals";

/** The slice of a RegisterResourceRequest (resource_pb) that callers read. */
export interface RegisterRequest {
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

/** What a read (a StackReference, `Resource.get`) carries. */
export interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
}

export type Registration =
  | { readonly kind: "register"; readonly urn: string; readonly request: RegisterRequest }
  | { readonly kind: "read"; readonly urn: string; readonly request: ReadRequest };

export interface MockRunOptions<T> {
  readonly project: string;
  readonly stack: string;
  /** Fully qualified key → value as the runtime stores it. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys?: readonly string[];
  /** `true` plays `pulumi preview` (`pulumi.runtime.isDryRun()`), `false` plays `up`. */
  readonly preview: boolean;
  readonly mocks: pulumi.runtime.Mocks;
  readonly program: () => T | Promise<T>;
}

export interface MockRun<T> {
  /** In the order the monitor received them (a resource comes after what its inputs need). */
  readonly registrations: readonly Registration[];
  readonly result: T;
  /** Errors the program raised where nobody awaited them (a failed resource, an apply). */
  readonly failures: readonly string[];
}

type Callback = (...args: unknown[]) => void;
interface MonitorLike {
  registerResource(req: RegisterRequest, callback: Callback): unknown;
  readResource(req: ReadRequest, callback: Callback): unknown;
}

/** The URN the engine gives a registration: a child's type is qualified by its parent's. */
export function urnFor(
  project: string,
  stack: string,
  parent: string,
  type: string,
  name: string,
): string {
  let qualifiedType = type;
  if (parent) {
    const parentType = parent.split("::")[2].split("$").pop();
    qualifiedType = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}

async function settle(count: () => number): Promise<void> {
  // Registrations are chained on promises: wait until the RPC queue is drained and nothing new
  // arrived for a few turns of the event loop.
  let quietTurns = 0;
  let last = -1;
  while (quietTurns < 5) {
    await waitForPendingRegistrations();
    await new Promise((resolve) => setImmediate(resolve));
    const now = count();
    quietTurns = now === last ? quietTurns + 1 : 0;
    last = now;
  }
}

export type MockInstallOptions = Omit<MockRunOptions<unknown>, "program" | "config"> & {
  /** When given, replaces the runtime's whole config; otherwise the config is left as it is. */
  readonly config?: Readonly<Record<string, string>>;
};

/**
 * Points the runtime at `mocks` until the next install, with no recording: for a test file whose
 * cases construct resources directly rather than run a program. Call it from the suite
 * (`beforeAll`), never at import time.
 */
export async function installMocks(options: MockInstallOptions): Promise<void> {
  if (options.config !== undefined) {
    pulumi.runtime.setAllConfig({ ...options.config }, [...(options.secretKeys ?? [])]);
  }
  await pulumi.runtime.setMocks(options.mocks, options.project, options.stack, options.preview);
}

export async function runUnderMockRuntime<T>(options: MockRunOptions<T>): Promise<MockRun<T>> {
  const registrations: Registration[] = [];
  const failures: string[] = [];
  await installMocks(options);
  const monitor = resourceMonitor() as MonitorLike;
  const urnOf = (request: RegisterRequest | ReadRequest) =>
    urnFor(
      options.project,
      options.stack,
      request.getParent(),
      request.getType(),
      request.getName(),
    );
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    registrations.push({ kind: "register", urn: urnOf(request), request });
    return register(request, callback);
  };
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (request, callback) => {
    registrations.push({ kind: "read", urn: urnOf(request), request });
    return read(request, callback);
  };
  const onRejection = (reason: unknown): void => {
    failures.push(reason instanceof Error ? reason.message : String(reason));
  };
  process.on("unhandledRejection", onRejection);
  try {
    const result = await options.program();
    await settle(() => registrations.length);
    return { registrations, result, failures: [...new Set(failures)] };
  } finally {
    process.off("unhandledRejection", onRejection);
  }
}
