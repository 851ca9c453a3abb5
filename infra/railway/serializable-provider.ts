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

export function serializableRailwayProvider(
  kind: RailwayProviderKind,
  providerModule: string = RAILWAY_PROVIDER_MODULE,
): pulumi.dynamic.ResourceProvider {
  let loaded: pulumi.dynamic.ResourceProvider | undefined;
  let configureRequest: pulumi.dynamic.ConfigureRequest | undefined;

  // Everything below runs in the dynamic-provider process; it may use only `require`, the two
  // captured strings and its own locals.
  async function real(): Promise<pulumi.dynamic.ResourceProvider> {
    if (loaded) return loaded;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeModule = require("node:module") as typeof import("node:module");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodePath = require("node:path") as typeof import("node:path");
    const projectRequire = nodeModule.createRequire(nodePath.join(process.cwd(), "package.json"));
    const tsx = projectRequire("tsx/cjs/api") as { register: () => unknown };
    tsx.register();
    const logic = projectRequire(providerModule) as {
      createRailwayProvider: (k: string) => pulumi.dynamic.ResourceProvider;
    };
    const provider = logic.createRailwayProvider(kind);
    if (configureRequest && provider.configure) await provider.configure(configureRequest);
    loaded = provider;
    return provider;
  }

  return {
    async configure(request) {
      configureRequest = request;
    },
    async check(olds, news) {
      const provider = await real();
      return provider.check ? provider.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const provider = await real();
      return provider.diff ? provider.diff(id, olds, news) : {};
    },
    async create(inputs) {
      return (await real()).create(inputs);
    },
    async read(id, props) {
      const provider = await real();
      return provider.read ? provider.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const provider = await real();
      return provider.update ? provider.update(id, olds, news) : {};
    },
    async delete(id, props) {
      const provider = await real();
      if (provider.delete) await provider.delete(id, props);
    },
  };
}
