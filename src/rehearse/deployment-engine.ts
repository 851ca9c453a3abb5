/**
 * A stack's `pulumi up` and `pulumi destroy`, played with the engine's rules on this machine:
 *
 * - the program runs under the mock runtime (src/pulumi/mock-runtime.ts) with `preview: false`,
 *   so the SDK registers each resource once its inputs are resolved — the order the engine would
 *   create them in — and the mock answers with *real* outputs:
 * - every dynamic resource goes through Pulumi's dynamic-provider host (dynamic-provider-host.ts):
 *   Check with the old inputs, then Create, or Diff with the old outputs and Update / replace;
 * - `@pulumi/postgresql` resources are applied as that provider applies them
 *   (postgres-provider-emulation.ts), as the stack's admin login;
 * - `@pulumi/random` values are really random, and kept in the state like Pulumi keeps them;
 * - everything else (GCP) cannot be reached from here: answered with the offline plan's
 *   deterministic outputs, and reported as `simulated`.
 *
 * The state (inputs, outputs, ids) lives in memory between the runs of one rehearsal, so a second
 * `up` and a `destroy` see what the first one left, as with a real backend.
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { enterProgram, mockCall, mockOutputs } from "../plan/mock-program";
import { readStackConfig } from "../plan/stack-config";
import { outputValue } from "../../infra/pulumi-internals";
import { runUnderMockRuntime } from "../pulumi/mock-runtime";
import { DynamicProviderHost } from "./dynamic-provider-host";
import {
  POSTGRESQL_PROVIDER_TYPE,
  createPostgresResource,
  deletePostgresResource,
  providerConfigOf,
  updatePostgresResource,
  type PostgresProviderConfig,
} from "./postgres-provider-emulation";

type Props = Record<string, unknown>;

export type StepOperation = "create" | "update" | "replace" | "same" | "delete" | "simulated";

export interface Step {
  readonly operation: StepOperation;
  readonly type: string;
  readonly name: string;
  readonly ms: number;
}

type ResourceKind =
  "component" | "dynamic" | "postgres" | "postgres-provider" | "random" | "reference" | "simulated";

interface ResourceState {
  readonly type: string;
  readonly name: string;
  readonly kind: ResourceKind;
  readonly id: string;
  readonly inputs: Props;
  readonly outputs: Props;
  /** The `@pulumi/postgresql` provider id a postgres resource was applied with. */
  readonly providerId?: string;
}

/** What a backend holds for one stack: resources in creation order, and the stack's outputs. */
export class StackState {
  readonly resources = new Map<string, ResourceState>();
  outputs: Props = {};
  /** Keys in the order their create finished (destroy goes backwards). */
  readonly order: string[] = [];
}

export interface EngineOptions {
  readonly projectDir: string;
  readonly stack: string;
  /** Config added to the stack file's (the stand-ins' endpoints and tokens). */
  readonly extraConfig: Readonly<Record<string, string>>;
  readonly extraSecretKeys?: readonly string[];
  /** The outputs a `StackReference` reads, by the referenced stack's name (`dev`). */
  readonly referencedStacks: ReadonlyMap<string, Props>;
  readonly state: StackState;
  readonly log: (line: string) => void;
  /** Plays an edit of the program: the inputs a resource registers, changed before check. */
  readonly editInputs?: (type: string, name: string, inputs: Props) => Props;
  /** Environment of the dynamic-provider host process. */
  readonly hostEnv?: NodeJS.ProcessEnv;
}

export interface UpResult {
  readonly steps: readonly Step[];
  readonly outputs: Props;
}

const keyOf = (type: string, name: string) => `${type}::${name}`;

function sameJson(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Props).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

// The wire form of a secret (`@pulumi/pulumi` runtime/rpc.ts).
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * Inputs as a provider that does not accept secrets receives them: the dynamic-provider host
 * answers `acceptSecrets: false`, so the engine sends plain values.
 */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const record = value as Props;
    if (record[SPECIAL_SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** A value the program returned, with every Output resolved (as `pulumi stack output` shows it). */
async function resolveOutputs(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return resolveOutputs(await outputValue(value));
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
  if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(
      Object.entries(value as Props).map(async ([k, v]) => [k, await resolveOutputs(v)] as const),
    );
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

/** `index.ts` exports the platform's outputs and, flattened, the dev stack's server exports. */
function stackExports(result: Props): Props {
  const { devStackExports, ...rest } = result;
  return { ...rest, ...((devStackExports as Props | undefined) ?? {}) };
}

function randomOutputs(type: string, inputs: Props): Props {
  const length = Number(inputs.length ?? 16);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const text = [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("");
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: text, bcryptHash: "" };
    case "random:index/randomString:RandomString":
      return { ...inputs, result: text };
    case "random:index/randomId:RandomId": {
      const bytes = randomBytes(Number(inputs.byteLength ?? 8));
      return {
        ...inputs,
        hex: bytes.toString("hex"),
        b64Url: bytes.toString("base64url"),
        b64Std: bytes.toString("base64"),
        dec: BigInt(`0x${bytes.toString("hex")}`).toString(),
      };
    }
    default:
      return mockOutputs(type, "random", inputs);
  }
}

/** Why an `up` stopped: the resource and what its provider said, as Pulumi prints it. */
export class DeploymentStepError extends Error {
  override readonly name = "DeploymentStepError";
  constructor(
    readonly type: string,
    readonly resourceName: string,
    readonly operation: StepOperation,
    message: string,
  ) {
    super(`${type} "${resourceName}" (${operation}): ${message}`);
  }
}

export async function rehearseUp(options: EngineOptions): Promise<UpResult> {
  const config = readStackConfig(options.projectDir, options.stack);
  const allConfig = { ...config.values, ...options.extraConfig };
  const steps: Step[] = [];
  const { state } = options;
  const host = await DynamicProviderHost.start({
    projectDir: options.projectDir,
    env: options.hostEnv,
    onLog: (line) => options.log(`    ${line}`),
  });
  try {
    await host.configure(allConfig);
    const postgresProviders = new Map<string, PostgresProviderConfig>();
    for (const resource of state.resources.values()) {
      if (resource.kind === "postgres-provider") {
        postgresProviders.set(resource.id, providerConfigOf(resource.outputs));
      }
    }
    const seen = new Set<string>();
    // A failed step fails the `up`, as in the engine: resources waiting on its outputs would
    // otherwise wait for ever.
    let abort: (error: Error) => void = () => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      abort = reject;
    });
    aborted.catch(() => undefined);

    const apply = async (
      args: pulumi.runtime.MockResourceArgs,
    ): Promise<ResourceState & { operation: StepOperation }> => {
      const registered = unwrapSecrets(args.inputs) as Props;
      const inputs = options.editInputs?.(args.type, args.name, registered) ?? registered;
      const key = keyOf(args.type, args.name);
      const previous = state.resources.get(key);
      const urn = `urn:pulumi:${options.stack}::${config.project}::${args.type}::${args.name}`;
      const base = { type: args.type, name: args.name };
      if (args.custom === false) {
        // A component only groups its children: the engine has nothing to do for it.
        return { ...base, kind: "component", id: "", inputs, outputs: inputs, operation: "same" };
      }
      if (args.type.startsWith("pulumi-nodejs:dynamic/")) {
        const checked = await host.check(urn, previous?.inputs ?? {}, inputs);
        if (checked.failures.length > 0) {
          throw new Error(
            checked.failures.map((f) => `${f.property || "inputs"}: ${f.reason}`).join("; "),
          );
        }
        if (!previous) {
          const created = await host.create(urn, checked.inputs);
          return {
            ...base,
            kind: "dynamic",
            id: created.id,
            inputs: checked.inputs,
            outputs: created.properties,
            operation: "create",
          };
        }
        const diff = await host.diff(previous.id, urn, previous.outputs, checked.inputs);
        if (diff.changes === "none") {
          return { ...previous, inputs: checked.inputs, operation: "same" };
        }
        if (diff.replaces.length > 0) {
          if (diff.deleteBeforeReplace) await host.delete(previous.id, urn, previous.outputs);
          const created = await host.create(urn, checked.inputs);
          if (!diff.deleteBeforeReplace) await host.delete(previous.id, urn, previous.outputs);
          return {
            ...base,
            kind: "dynamic",
            id: created.id,
            inputs: checked.inputs,
            outputs: created.properties,
            operation: "replace",
          };
        }
        const outputs = await host.update(previous.id, urn, previous.outputs, checked.inputs);
        return { ...previous, inputs: checked.inputs, outputs, operation: "update" };
      }
      if (args.type === POSTGRESQL_PROVIDER_TYPE) {
        const id = previous?.id ?? `${args.name}-provider`;
        postgresProviders.set(id, providerConfigOf(inputs));
        const same = previous !== undefined && sameJson(previous.inputs, inputs);
        return {
          ...base,
          kind: "postgres-provider",
          id,
          inputs,
          outputs: inputs,
          operation: previous ? (same ? "same" : "update") : "create",
        };
      }
      if (args.type.startsWith("postgresql:")) {
        const providerId = args.provider?.split("::").pop() ?? "";
        const providerConfig = postgresProviders.get(providerId);
        if (!providerConfig)
          throw new Error(`no postgresql provider ${args.provider ?? "(default)"} configured`);
        if (!previous) {
          const created = await createPostgresResource(args.type, inputs, providerConfig);
          return {
            ...base,
            kind: "postgres",
            id: created.id,
            inputs,
            outputs: created.outputs,
            providerId,
            operation: "create",
          };
        }
        if (sameJson(previous.inputs, inputs)) return { ...previous, operation: "same" };
        const outputs = await updatePostgresResource(
          args.type,
          previous.outputs,
          inputs,
          providerConfig,
        );
        return { ...previous, inputs, outputs, providerId, operation: "update" };
      }
      if (args.type.startsWith("random:")) {
        if (previous && sameJson(previous.inputs, inputs))
          return { ...previous, operation: "same" };
        return {
          ...base,
          kind: "random",
          id: `${args.name}-id`,
          inputs,
          outputs: randomOutputs(args.type, inputs),
          operation: previous ? "replace" : "create",
        };
      }
      if (args.type === "pulumi:pulumi:StackReference") {
        const referenced = String(inputs.name).split("/").pop() ?? "";
        const outputs = options.referencedStacks.get(referenced);
        if (!outputs)
          throw new Error(
            `stack "${referenced}" has no outputs in this rehearsal (rehearse it first)`,
          );
        return {
          ...base,
          kind: "reference",
          id: String(inputs.name),
          inputs,
          outputs: { name: inputs.name, outputs, secretOutputNames: [] },
          operation: "same",
        };
      }
      return {
        ...base,
        kind: "simulated",
        id: previous?.id ?? `${args.name}-id`,
        inputs,
        outputs: mockOutputs(args.type, args.name, inputs),
        operation: "simulated",
      };
    };

    const mocks: pulumi.runtime.Mocks = {
      newResource: async (args) => {
        const started = Date.now();
        let result;
        try {
          result = await apply(args);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          options.log(`  ✗ ${args.type} ${args.name}: ${message}`);
          const stepError = new DeploymentStepError(
            args.type,
            args.name,
            state.resources.has(keyOf(args.type, args.name)) ? "update" : "create",
            message,
          );
          abort(stepError);
          throw stepError;
        }
        const { operation, ...resource } = result;
        const key = keyOf(args.type, args.name);
        seen.add(key);
        state.resources.set(key, resource);
        if (!state.order.includes(key)) state.order.push(key);
        const ms = Date.now() - started;
        if (resource.kind !== "component") {
          steps.push({ operation, type: args.type, name: args.name, ms });
        }
        if (operation !== "same" && operation !== "simulated") {
          options.log(`  ${operation.padEnd(7)} ${args.type} ${args.name} (${ms} ms)`);
        }
        return { id: resource.id, state: resource.outputs };
      },
      call: (args) => mockCall(args.token, args.inputs as Props),
    };

    const run = await runUnderMockRuntime({
      project: config.project,
      stack: config.stack,
      config: allConfig,
      secretKeys: [...config.secretKeys, ...(options.extraSecretKeys ?? [])],
      preview: false,
      mocks,
      program: async () => {
        const result = await Promise.race([enterProgram(options.projectDir), aborted]);
        return (await Promise.race([resolveOutputs(result), aborted])) as Props;
      },
    });
    const failure = run.failures[0];
    if (failure !== undefined) throw new Error(failure);
    // What the program no longer declares is deleted, dependents first.
    for (const key of [...state.order].reverse()) {
      if (seen.has(key)) continue;
      steps.push(await deleteResource(host, options, postgresProviders, key));
    }
    state.outputs = stackExports(run.result);
    return { steps, outputs: state.outputs };
  } finally {
    await host.stop();
  }
}

async function deleteResource(
  host: DynamicProviderHost,
  options: EngineOptions,
  postgresProviders: ReadonlyMap<string, PostgresProviderConfig>,
  key: string,
): Promise<Step> {
  const { state } = options;
  const resource = state.resources.get(key)!;
  const started = Date.now();
  const urn = `urn:pulumi:${options.stack}::${resource.type}::${resource.name}`;
  try {
    switch (resource.kind) {
      case "dynamic":
        await host.delete(resource.id, urn, resource.outputs);
        break;
      case "postgres": {
        const config = postgresProviders.get(resource.providerId ?? "");
        if (!config) throw new Error(`no postgresql provider ${resource.providerId} in the state`);
        await deletePostgresResource(resource.type, resource.outputs, config);
        break;
      }
      default:
        break;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeploymentStepError(resource.type, resource.name, "delete", message);
  }
  state.resources.delete(key);
  state.order.splice(state.order.indexOf(key), 1);
  const ms = Date.now() - started;
  const really = resource.kind === "dynamic" || resource.kind === "postgres";
  if (really) options.log(`  delete  ${resource.type} ${resource.name} (${ms} ms)`);
  return {
    operation:
      really || resource.kind === "random" || resource.kind === "postgres-provider"
        ? "delete"
        : "simulated",
    type: resource.type,
    name: resource.name,
    ms,
  };
}

/** `pulumi destroy` (after `synter-infra teardown` lifted protection): everything, dependents first. */
export async function rehearseDestroy(options: EngineOptions): Promise<readonly Step[]> {
  const config = readStackConfig(options.projectDir, options.stack);
  const host = await DynamicProviderHost.start({
    projectDir: options.projectDir,
    env: options.hostEnv,
    onLog: (line) => options.log(`    ${line}`),
  });
  try {
    await host.configure({ ...config.values, ...options.extraConfig });
    const postgresProviders = new Map<string, PostgresProviderConfig>();
    for (const resource of options.state.resources.values()) {
      if (resource.kind === "postgres-provider") {
        postgresProviders.set(resource.id, providerConfigOf(resource.outputs));
      }
    }
    const steps: Step[] = [];
    for (const key of [...options.state.order].reverse()) {
      const kind = options.state.resources.get(key)?.kind;
      const step = await deleteResource(host, options, postgresProviders, key);
      if (kind !== "component") steps.push(step);
    }
    options.state.outputs = {};
    return steps;
  } finally {
    await host.stop();
  }
}
