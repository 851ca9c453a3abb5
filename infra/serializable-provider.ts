/**
 * The one way this repository hands a dynamic provider to Pulumi. `pulumi.dynamic.Resource`
 * serializes its provider object (function serialization: the text of every function it reaches
 * and the values they capture) into each resource's `__provider`, and Pulumi's dynamic-provider
 * host runs that text later, in another process started in the project root.
 *
 * The shim built here captures two strings and an argument list: the provider module's path
 * relative to the project root, and the factory to call. It `require`s the real logic on first
 * use, resolving from the host's working directory and registering tsx for TypeScript. So
 * `__provider` depends only on the code that runs: no absolute path of the checkout (two clones of
 * one commit serialize to the same bytes) and no comments — comments inside a serialized function
 * are part of its text, which is why every comment of the shim lives here, outside the functions.
 *
 * Consequences, documented in the README: the host must run in the project root with this
 * repository's `node_modules` installed; a provider module keeps its path and factory name for as
 * long as some state refers to it (`refresh` and `destroy` load the provider the state holds).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the serialized shim can only `require` */
import type * as pulumi from "@pulumi/pulumi";

/** Where the real provider logic lives, as the serialized shim records it. */
export interface ProviderModuleReference {
  /** Relative to the Pulumi project root, `./`-prefixed, without extension. */
  readonly module: string;
  /** Name of the module's export that builds the provider. */
  readonly factory: string;
  /** Arguments for the factory (plain strings: they are serialized by value). */
  readonly args: readonly string[];
}

export interface SerializableProvider extends pulumi.dynamic.ResourceProvider {
  readonly reference: ProviderModuleReference;
  readonly state: {
    loaded?: pulumi.dynamic.ResourceProvider;
    configureRequest?: pulumi.dynamic.ConfigureRequest;
  };
}

/**
 * Builds the shim. State lives on the object (`this.state`): Pulumi serializes captured
 * variables by value into each function separately, so a `let` set by `configure` would not be
 * seen by `create`.
 */
export function serializableProvider(reference: ProviderModuleReference): SerializableProvider {
  if (!reference.module.startsWith("./") || /\.[cm]?[jt]s$/.test(reference.module)) {
    throw new Error(
      `provider module ${reference.module} must be ./-relative to the project root, without extension`,
    );
  }
  return {
    reference: { module: reference.module, factory: reference.factory, args: [...reference.args] },
    state: {},
    async configure(request) {
      this.state.configureRequest = request;
    },
    async check(olds, news) {
      const provider = await loadProvider(this);
      return provider.check ? provider.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const provider = await loadProvider(this);
      return provider.diff ? provider.diff(id, olds, news) : {};
    },
    async create(inputs) {
      return (await loadProvider(this)).create(inputs);
    },
    async read(id, props) {
      const provider = await loadProvider(this);
      return provider.read ? provider.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const provider = await loadProvider(this);
      return provider.update ? provider.update(id, olds, news) : {};
    },
    async delete(id, props) {
      const provider = await loadProvider(this);
      if (provider.delete) await provider.delete(id, props);
    },
  };
}

/**
 * Runs in the dynamic-provider process and may use only `require`, `process` and the shim. One tsx
 * hook per process is enough (every resource kind has its own shim).
 */
async function loadProvider(shim: SerializableProvider): Promise<pulumi.dynamic.ResourceProvider> {
  if (shim.state.loaded) return shim.state.loaded;
  const nodeModule = require("node:module") as typeof import("node:module");
  const nodePath = require("node:path") as typeof import("node:path");
  const projectRequire = nodeModule.createRequire(nodePath.join(process.cwd(), "package.json"));
  if (!projectRequire.extensions[".ts"]) {
    (projectRequire("tsx/cjs/api") as { register: () => unknown }).register();
  }
  const logic = projectRequire(shim.reference.module) as Record<
    string,
    (...args: string[]) => pulumi.dynamic.ResourceProvider
  >;
  const provider = logic[shim.reference.factory](...shim.reference.args);
  if (shim.state.configureRequest && provider.configure) {
    await provider.configure(shim.state.configureRequest);
  }
  shim.state.loaded = provider;
  return provider;
}
