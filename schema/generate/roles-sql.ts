/**
 * Renders the roles and grants of `schema/roles.ts` as SQL, for the local environment and the
 * tests — the same declaration `infra/postgres/` renders as Pulumi resources. Pure: it returns
 * statements, the caller runs them (as a superuser or a role with CREATEROLE).
 */
import {
  AUTH_ROLE_KINDS,
  AUTH_SCHEMA,
  OWNER_ROLE,
  authDatabaseSettings,
  authGrants,
  authRoleName,
  granteeName,
  type AuthGrant,
  type AuthRoleKind,
} from "../roles";

export interface AuthRolesSqlInput {
  readonly database: string;
  readonly passwords: Readonly<Record<AuthRoleKind, string>>;
}

export interface AuthRolesSql {
  /** In the maintenance database: create each role if missing, then set its attributes and password. */
  readonly roles: readonly string[];
  /** In the maintenance database, only when `databaseExists` returns no row (no IF NOT EXISTS). */
  readonly createDatabase: string;
  readonly databaseExists: { readonly text: string; readonly values: readonly string[] };
  /** In the maintenance database, after creation: keeps ownership right on a re-run. */
  readonly alterDatabaseOwner: string;
  /** In the auth database, in one transaction: every grant, in declaration order. */
  readonly grants: readonly string[];
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal; standard_conforming_strings (on since 9.1) keeps backslashes literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function renderAuthRolesSql(input: AuthRolesSqlInput): AuthRolesSql {
  const { database } = input;
  const owner = quoteIdentifier(authRoleName(OWNER_ROLE, database));
  return {
    roles: AUTH_ROLE_KINDS.flatMap((kind) => renderRole(kind, database, input.passwords[kind])),
    createDatabase:
      `CREATE DATABASE ${quoteIdentifier(database)} OWNER ${owner} ` +
      `TEMPLATE ${authDatabaseSettings.template} ENCODING ${quoteLiteral(authDatabaseSettings.encoding)}`,
    databaseExists: { text: "SELECT 1 FROM pg_database WHERE datname = $1", values: [database] },
    alterDatabaseOwner: `ALTER DATABASE ${quoteIdentifier(database)} OWNER TO ${owner}`,
    grants: authGrants.flatMap((grant) => renderGrant(grant, database)),
  };
}

function renderRole(kind: AuthRoleKind, database: string, password: string): string[] {
  const name = authRoleName(kind, database);
  // CREATE ROLE has no IF NOT EXISTS; the attributes mirror postgresql.Role's defaults plus LOGIN.
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${quoteLiteral(name)}) ` +
      `THEN CREATE ROLE ${quoteIdentifier(name)}; END IF; END $$`,
    `ALTER ROLE ${quoteIdentifier(name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT ` +
      `NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`,
  ];
}

/** REVOKE ALL then GRANT: the same authoritative meaning as the Pulumi grant resources. */
export function renderGrant(grant: AuthGrant, database: string): string[] {
  const grantee =
    grant.grantee === "PUBLIC" ? "PUBLIC" : quoteIdentifier(granteeName(grant.grantee, database));
  const privileges = grant.privileges.join(", ");
  const schema = quoteIdentifier(AUTH_SCHEMA);
  const pair = (target: string, prefix = ""): string[] => [
    `${prefix}REVOKE ALL ON ${target} FROM ${grantee}`,
    ...(grant.privileges.length > 0
      ? [`${prefix}GRANT ${privileges} ON ${target} TO ${grantee}`]
      : []),
  ];
  const defaults = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(authRoleName(OWNER_ROLE, database))} IN SCHEMA ${schema} `;
  switch (grant.on) {
    case "database":
      return pair(`DATABASE ${quoteIdentifier(database)}`);
    case "schema":
      return pair(`SCHEMA ${schema}`);
    case "tables":
      return pair(`ALL TABLES IN SCHEMA ${schema}`);
    case "sequences":
      return pair(`ALL SEQUENCES IN SCHEMA ${schema}`);
    case "defaultTables":
      return pair("TABLES", defaults);
    case "defaultSequences":
      return pair("SEQUENCES", defaults);
    default:
      return unreachable(grant);
  }
}

function unreachable(value: never): never {
  throw new Error(`unknown grant ${JSON.stringify(value)}`);
}
