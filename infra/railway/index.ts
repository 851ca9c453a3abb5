/**
 * Railway as Pulumi resources, over Railway's public GraphQL API (see docs/readme/railway.md).
 *
 * Resources: `RailwayProject`, `RailwayPostgres`, `RailwayRedis`, `RailwayTcpProxy`,
 * `RailwayVariables`. The client, the provider logic classes and the documents are exported for
 * tests and for code that talks to Railway outside a Pulumi program.
 */
export {
  RailwayProject,
  RailwayPostgres,
  RailwayRedis,
  RailwayTcpProxy,
  RailwayVariables,
  type RailwayProjectArgs,
  type RailwayPostgresArgs,
  type RailwayRedisArgs,
  type RailwayTcpProxyArgs,
  type RailwayVariablesArgs,
} from "./resources";
export {
  RAILWAY_DEFAULT_ENDPOINT,
  RailwayApiError,
  RailwayClient,
  RailwayTokenMissingError,
  resolveRailwayToken,
  type RailwayClientOptions,
  type RailwayRetryPolicy,
} from "./client";
export {
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_IMAGE,
  REDIS_START_COMMAND,
  POSTGRES_PORT,
  REDIS_PORT,
  railwayPrivateHost,
  RailwayPostgresProvider,
  RailwayRedisProvider,
} from "./database-service-provider";
export { RailwayProjectProvider } from "./project-provider";
export { RailwayTcpProxyProvider } from "./tcp-proxy-provider";
export { RailwayVariablesProvider } from "./variables-provider";
export { createRailwayProvider, type RailwayProviderKind } from "./providers";
export type { RailwayProviderOptions } from "./provider-base";
export { railwayDocuments, type RailwayOperationName } from "./documents";
