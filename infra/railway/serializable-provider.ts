/**
 * The object Pulumi serialises into state as a dynamic resource's `__provider`.
 *
 * Pulumi serialises a dynamic provider's code (function serialisation) and runs it later in a
 * separate process. Serialising the real provider classes would drag their whole module graph
 * into every resource's state and break on the smallest refactor, so this shim captures only two
 * strings — the provider kind and the provider module's path relative to the Pulumi project —
 * and `require`s the real logic when first called. Consequences (documented in the README):
 *
 * - the dynamic-provider process must run in the Pulumi project directory (Pulumi starts it
 *   there) with this repository's `node_modules` installed (tsx loads the TypeScript);
 * - `infra/railway/providers.ts` must keep its path and `createRailwayProvider` export, because
 *   state written by older deployments loads it by that path on `refresh` and `destroy`.
 *
 * Nothing in the shim (or in state) holds the token: `configure` forwards Pulumi's config and
 * the real provider reads `railway:token` / `RAILWAY_TOKEN` itself.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { RailwayProviderKind } from "./providers";

/** Path of `providers.ts` relative to the Pulumi project root, without extension. */
export const RAILWAY_PROVIDER_MODULE = "./infra/railway/providers";

/**
 * The shim keeps its state on itself (`this.state`), not in closure variables: Pulumi serialises
 * captured variables by value into each function separately, so a `let` set by `configure` would
 * not be seen by `create`.
 */
export interface RailwayProviderShim extends pulumi.dynamic.ResourceProvider {
  readonly kind: RailwayProviderKind;
  readonly providerModule: string;
  readonly state: {
    loaded?: pulumi.dynamic.ResourceProvider;
    configureRequest?: pulumi.dynamic.ConfigureRequest;
  };
}

export function serializableRailwayProvider(
  kind: RailwayProviderKind,
  providerModule: string = RAILWAY_PROVIDER_MODULE,
): RailwayProviderShim {
  return {
    kind,
    providerModule,
    state: {},
    async configure(request) {
      this.state.configureRequest = request;
    },
    async check(olds, news) {
      const provider = await loadRailwayProvider(this);
      return provider.check ? provider.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const provider = await loadRailwayProvider(this);
      return provider.diff ? provider.diff(id, olds, news) : {};
    },
    async create(inputs) {
      return (await loadRailwayProvider(this)).create(inputs);
    },
    async read(id, props) {
      const provider = await loadRailwayProvider(this);
      return provider.read ? provider.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const provider = await loadRailwayProvider(this);
      return provider.update ? provider.update(id, olds, news) : {};
    },
    async delete(id, props) {
      const provider = await loadRailwayProvider(this);
      if (provider.delete) await provider.delete(id, props);
    },
  };
}

/**
 * Runs in the dynamic-provider process: may use only `require`, `process` and the shim. Resolves
 * modules from the Pulumi project directory (the process's working directory) and registers tsx
 * so the TypeScript provider module loads without a build step.
 */
async function loadRailwayProvider(
  shim: RailwayProviderShim,
): Promise<pulumi.dynamic.ResourceProvider> {
  if (shim.state.loaded) return shim.state.loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeModule = require("node:module") as typeof import("node:module");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodePath = require("node:path") as typeof import("node:path");
  const projectRequire = nodeModule.createRequire(nodePath.join(process.cwd(), "package.json"));
  // Once per process: every Railway resource kind has its own shim, one tsx hook is enough.
  if (!projectRequire.extensions[".ts"]) {
    const tsx = projectRequire("tsx/cjs/api") as { register: () => unknown };
    tsx.register();
  }
  const logic = projectRequire(shim.providerModule) as {
    createRailwayProvider: (kind: string) => pulumi.dynamic.ResourceProvider;
  };
  const provider = logic.createRailwayProvider(shim.kind);
  if (shim.state.configureRequest && provider.configure) {
    await provider.configure(shim.state.configureRequest);
  }
  shim.state.loaded = provider;
  return provider;
}
