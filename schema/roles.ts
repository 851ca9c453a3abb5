import { SchemaError } from "./errors";

/**
 * Roles and grants of the auth database (DESIGN §4 "Roles"), declared once as data. Two renderers
 * read this one declaration: `infra/postgres/` turns it into `@pulumi/postgresql` resources (cloud)
 * and `schema/generate/roles-sql.ts` into SQL (local environment, tests). Neither keeps a copy.
 *
 * Every grant is authoritative for its (object, grantee) pair, as `postgresql.Grant` and
 * `postgresql.DefaultPrivileges` are: the listed privileges are the complete set, anything else
 * that grantee held on that object is revoked; an empty list revokes everything.
 */

/** The auth database of every long-lived stack; PR stacks get `synter_pr_<n>` on dev's server. */
export const AUTH_DATABASE = "synter";
/** The auth database of stack `pr-<n>`, on dev's server beside dev's own `synter`. */
export function prAuthDatabaseName(prNumber: number): string {
  if (!Number.isInteger(prNumber) || prNumber < 1)
    throw new SchemaError(`invalid PR number ${prNumber}: a PR number is a whole number from 1`);
  return `${AUTH_DATABASE}_pr_${prNumber}`;
}

/** The schema the migrations create the tables in (the API's queries are unqualified). */
export const AUTH_SCHEMA = "public";

export const AUTH_ROLE_KINDS = ["migrator", "app", "readonly"] as const;
export type AuthRoleKind = (typeof AUTH_ROLE_KINDS)[number];

export interface AuthRoleSpec {
  readonly kind: AuthRoleKind;
  readonly description: string;
}

export const authRoles: Readonly<Record<AuthRoleKind, AuthRoleSpec>> = {
  migrator: {
    kind: "migrator",
    description:
      "Owns the database (so, on Postgres 15+, schema public through pg_database_owner) and " +
      "every table; runs the migrations. Never used by the app.",
  },
  app: {
    kind: "app",
    description: "The API and workers: DML only on every table, present and future.",
  },
  readonly: {
    kind: "readonly",
    description: "Analysts and dashboards: SELECT only.",
  },
};

/**
 * Settings the database is created with, the same on both paths. template0 because template1 may
 * carry objects someone installed there; UTF8 holds every legacy value.
 */
export const authDatabaseSettings = { encoding: "UTF8", template: "template0" } as const;

/** The role that owns the database and creates every table. */
export const OWNER_ROLE: AuthRoleKind = "migrator";

/** `PUBLIC`, the pseudo-role every role belongs to. */
export type Grantee = AuthRoleKind | "PUBLIC";

export type DatabasePrivilege = "CONNECT" | "TEMPORARY" | "CREATE";
export type SchemaPrivilege = "USAGE" | "CREATE";
export type TablePrivilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE";
export type SequencePrivilege = "USAGE" | "SELECT";

/**
 * One grant. `tables`/`sequences` cover the objects that exist when it is applied; the `default…`
 * kinds are `ALTER DEFAULT PRIVILEGES FOR ROLE <owner>`, which cover objects the owner creates
 * later — a plain grant alone would miss every table a later migration adds (DESIGN §7).
 */
export type AuthGrant =
  | {
      readonly on: "database";
      readonly grantee: Grantee;
      readonly privileges: readonly DatabasePrivilege[];
    }
  | {
      readonly on: "schema";
      readonly grantee: Grantee;
      readonly privileges: readonly SchemaPrivilege[];
    }
  | {
      readonly on: "tables" | "defaultTables";
      readonly grantee: Grantee;
      readonly privileges: readonly TablePrivilege[];
    }
  | {
      readonly on: "sequences" | "defaultSequences";
      readonly grantee: Grantee;
      readonly privileges: readonly SequencePrivilege[];
    };

const DML: readonly TablePrivilege[] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

/**
 * In application order. The order matters only for readability and for the Pulumi dependency
 * chain (each grant waits for the previous one: @pulumi/postgresql grants applied in parallel fail
 * with "tuple concurrently updated").
 */
export const authGrants: readonly AuthGrant[] = [
  // Nobody but the listed roles may connect: PR databases share dev's server with other roles.
  { on: "database", grantee: "PUBLIC", privileges: [] },
  { on: "database", grantee: "app", privileges: ["CONNECT"] },
  { on: "database", grantee: "readonly", privileges: ["CONNECT"] },
  // Only the migrator may CREATE in the schema. Explicit for servers older than 15, where
  // schema public belongs to the bootstrap admin and PUBLIC may create in it.
  { on: "schema", grantee: "PUBLIC", privileges: [] },
  { on: "schema", grantee: "migrator", privileges: ["USAGE", "CREATE"] },
  { on: "schema", grantee: "app", privileges: ["USAGE"] },
  { on: "schema", grantee: "readonly", privileges: ["USAGE"] },
  // Tables that already exist (a database adopted with data in it)…
  { on: "tables", grantee: "app", privileges: DML },
  { on: "sequences", grantee: "app", privileges: ["USAGE", "SELECT"] },
  { on: "tables", grantee: "readonly", privileges: ["SELECT"] },
  // …and every table and sequence the migrator creates from now on.
  { on: "defaultTables", grantee: "app", privileges: DML },
  { on: "defaultSequences", grantee: "app", privileges: ["USAGE", "SELECT"] },
  { on: "defaultTables", grantee: "readonly", privileges: ["SELECT"] },
];

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** Postgres truncates identifiers to 63 bytes; a truncated role name would collide silently. */
const MAX_IDENTIFIER_LENGTH = 63;
const LONGEST_SUFFIX = Math.max(...AUTH_ROLE_KINDS.map((kind) => kind.length + 1));

/**
 * Problems with a database name (empty when fine). Role names derive from it, because roles are
 * cluster-wide: a PR database `synter_pr_12` on dev's server gets `synter_pr_12_app`, never dev's
 * `synter_app`.
 */
export function authDatabaseNameProblems(database: string): string[] {
  const problems: string[] = [];
  if (!IDENTIFIER.test(database)) {
    problems.push(
      `database name "${database}" must be lower-case letters, digits and underscores, not starting with a digit`,
    );
  }
  if (database.length + LONGEST_SUFFIX > MAX_IDENTIFIER_LENGTH) {
    problems.push(
      `database name "${database}" is too long: role names (<database>_readonly) must fit in ${MAX_IDENTIFIER_LENGTH} characters`,
    );
  }
  return problems;
}

export function assertAuthDatabaseName(database: string): void {
  const problems = authDatabaseNameProblems(database);
  if (problems.length > 0) throw new SchemaError(problems.join("; "));
}

/** `synter_migrator`, `synter_app`, `synter_readonly` for the default database. */
export function authRoleName(kind: AuthRoleKind, database: string = AUTH_DATABASE): string {
  assertAuthDatabaseName(database);
  return `${database}_${kind}`;
}

export function authRoleNames(database: string = AUTH_DATABASE): Record<AuthRoleKind, string> {
  return {
    migrator: authRoleName("migrator", database),
    app: authRoleName("app", database),
    readonly: authRoleName("readonly", database),
  };
}

/** The grantee's name in the cluster: `PUBLIC` stays `PUBLIC`. */
export function granteeName(grantee: Grantee, database: string = AUTH_DATABASE): string {
  return grantee === "PUBLIC" ? "PUBLIC" : authRoleName(grantee, database);
}

/** A stable key per grant (`schema-app`, `defaultTables-readonly`), unique in `authGrants`. */
export function authGrantKey(grant: AuthGrant): string {
  return `${grant.on}-${grant.grantee === "PUBLIC" ? "public" : grant.grantee}`;
}
