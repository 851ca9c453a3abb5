/**
 * Loads Railway's published GraphQL schema from the shared folder beside the repository
 * (`<repo>/../shared/railway/schema.graphql`; CI clones the repo with a copy of shared/ beside it).
 * `RAILWAY_SCHEMA_PATH` points elsewhere when needed.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { buildSchema, type GraphQLSchema } from "graphql";

export const REPO_ROOT = path.resolve(__dirname, "../..");

export function railwaySchemaPath(): string {
  return (
    process.env.RAILWAY_SCHEMA_PATH ?? path.resolve(REPO_ROOT, "../shared/railway/schema.graphql")
  );
}

let cached: { path: string; schema: GraphQLSchema } | undefined;

export function loadRailwaySchema(): GraphQLSchema {
  const schemaPath = railwaySchemaPath();
  if (cached?.path === schemaPath) return cached.schema;
  if (!existsSync(schemaPath)) {
    throw new Error(
      `Railway's GraphQL schema was not found at ${schemaPath}: put the shared folder beside the ` +
        "repository (../shared/railway/schema.graphql) or set RAILWAY_SCHEMA_PATH to the file.",
    );
  }
  cached = { path: schemaPath, schema: buildSchema(readFileSync(schemaPath, "utf8")) };
  return cached.schema;
}
