/**
 * The provider logic by kind: what the serialised dynamic-provider shim loads at run time, and
 * what tests construct directly (with a token and endpoint) to drive create/read/update/delete.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RailwayPostgresProvider, RailwayRedisProvider } from "./database-service-provider";
import type { RailwayProviderOptions } from "./provider-base";
import { RailwayProjectProvider } from "./project-provider";
import { RailwayTcpProxyProvider } from "./tcp-proxy-provider";
import { RailwayVariablesProvider } from "./variables-provider";

export type RailwayProviderKind = "project" | "postgres" | "redis" | "tcpProxy" | "variables";

export const railwayProviderKinds: readonly RailwayProviderKind[] = [
  "project",
  "postgres",
  "redis",
  "tcpProxy",
  "variables",
];

export function createRailwayProvider(
  kind: RailwayProviderKind,
  options: RailwayProviderOptions = {},
): pulumi.dynamic.ResourceProvider {
  switch (kind) {
    case "project":
      return new RailwayProjectProvider(options);
    case "postgres":
      return new RailwayPostgresProvider(options);
    case "redis":
      return new RailwayRedisProvider(options);
    case "tcpProxy":
      return new RailwayTcpProxyProvider(options);
    case "variables":
      return new RailwayVariablesProvider(options);
    default: {
      const unknownKind: never = kind;
      throw new Error(`Unknown Railway provider kind: ${String(unknownKind)}`);
    }
  }
}
