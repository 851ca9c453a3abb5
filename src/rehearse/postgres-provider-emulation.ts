/**
 * The @pulumi/postgresql resources of a stack, applied as SQL the way that provider applies them
 * (terraform-provider-postgresql, which @pulumi/postgresql wraps), so the rehearsal runs the roles,
 * database and grants the program declares — from `schema/roles.ts`, through `AuthDatabase` —
 * against a real server, as the stack's admin login:
 *
 * - the provider connects with the `sslmode` it is given, with libpq's meaning (lib/pq), and once:
 *   no retry, so a server that is not up yet fails the step, as in a real `up`;
 * - with `superuser: false` it grants itself membership of an object's owner for the statements
 *   that need it (CREATE DATABASE … OWNER, grants on the owner's objects, ALTER DEFAULT
 *   PRIVILEGES FOR ROLE) and revokes it afterwards;
 * - `Grant` is authoritative for its (role, object type): it revokes everything, then grants.
 *
 * What it does not play: the provider's own diffing (the rehearsal replays a changed resource as
 * delete + create for grants, ALTER for role passwords), and refresh.
 */
import type { Client } from "pg";
import { connectPostgresClient } from "../migrate/postgres-tls";

export const POSTGRESQL_PROVIDER_TYPE = "pulumi:providers:postgresql";

type Props = Record<string, unknown>;

export interface PostgresProviderConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly sslmode: string;
  readonly superuser: boolean;
}

export function providerConfigOf(inputs: Props): PostgresProviderConfig {
  return {
    host: String(inputs.host),
    port: Number(inputs.port),
    username: String(inputs.username),
    password: String(inputs.password),
    sslmode: String(inputs.sslmode ?? "prefer"),
    superuser: inputs.superuser === true || inputs.superuser === "true",
  };
}

function ident(name: unknown): string {
  return `"${String(name).replaceAll('"', '""')}"`;
}

function literal(value: unknown): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}

function grantee(role: unknown): string {
  return String(role).toLowerCase() === "public" ? "PUBLIC" : ident(role);
}

function privilegeList(privileges: unknown): string[] {
  return Array.isArray(privileges) ? privileges.map((p) => String(p).toUpperCase()) : [];
}

async function connect(config: PostgresProviderConfig, database: string): Promise<Client> {
  const url =
    `postgresql://${encodeURIComponent(config.username)}:${encodeURIComponent(config.password)}` +
    `@${config.host}:${config.port}/${encodeURIComponent(database)}?sslmode=${config.sslmode}`;
  return connectPostgresClient(url, {
    application_name: "terraform-provider-postgresql (rehearsal)",
  });
}

/** Runs `statements` in `database` with the admin temporarily a member of `owner` (superuser: false). */
async function asMemberOf(
  config: PostgresProviderConfig,
  database: string,
  owner: string | undefined,
  statements: readonly string[],
): Promise<void> {
  const client = await connect(config, database);
  try {
    const grantMembership =
      owner !== undefined && !config.superuser && owner !== config.username
        ? (
            await client.query<{ member: boolean }>(
              "SELECT pg_has_role(current_user, $1, 'MEMBER') AS member",
              [owner],
            )
          ).rows[0]?.member === false
        : false;
    if (grantMembership) await client.query(`GRANT ${ident(owner)} TO ${ident(config.username)}`);
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      if (grantMembership) {
        await client.query(`REVOKE ${ident(owner)} FROM ${ident(config.username)}`);
      }
    }
  } finally {
    await client.end();
  }
}

/** The database the provider connects to when a resource names none (its default). */
const MAINTENANCE_DATABASE = "postgres";

async function ownerOfDatabase(config: PostgresProviderConfig, database: string): Promise<string> {
  const client = await connect(config, MAINTENANCE_DATABASE);
  try {
    const result = await client.query<{ owner: string }>(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
      [database],
    );
    if (result.rows.length === 0) throw new Error(`database "${database}" does not exist`);
    return result.rows[0].owner;
  } finally {
    await client.end();
  }
}

function grantStatements(inputs: Props, revokeOnly: boolean): string[] {
  const role = grantee(inputs.role);
  const privileges = privilegeList(inputs.privileges);
  const schema = inputs.schema === undefined ? undefined : ident(inputs.schema);
  let target: string;
  switch (inputs.objectType) {
    case "database":
      target = `DATABASE ${ident(inputs.database)}`;
      break;
    case "schema":
      target = `SCHEMA ${schema}`;
      break;
    case "table":
      target = `ALL TABLES IN SCHEMA ${schema}`;
      break;
    case "sequence":
      target = `ALL SEQUENCES IN SCHEMA ${schema}`;
      break;
    default:
      throw new Error(`the rehearsal does not play grants on ${String(inputs.objectType)}`);
  }
  const statements = [`REVOKE ALL ON ${target} FROM ${role}`];
  if (!revokeOnly && privileges.length > 0) {
    statements.push(`GRANT ${privileges.join(", ")} ON ${target} TO ${role}`);
  }
  return statements;
}

function defaultPrivilegeStatements(inputs: Props, revokeOnly: boolean): string[] {
  const objects = inputs.objectType === "table" ? "TABLES" : "SEQUENCES";
  const prefix = `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(inputs.owner)} IN SCHEMA ${ident(inputs.schema)}`;
  const role = grantee(inputs.role);
  const statements = [`${prefix} REVOKE ALL ON ${objects} FROM ${role}`];
  const privileges = privilegeList(inputs.privileges);
  if (!revokeOnly && privileges.length > 0) {
    statements.push(`${prefix} GRANT ${privileges.join(", ")} ON ${objects} TO ${role}`);
  }
  return statements;
}

/** Creates what one resource declares; returns its id and outputs as the provider would. */
export async function createPostgresResource(
  type: string,
  inputs: Props,
  config: PostgresProviderConfig,
): Promise<{ id: string; outputs: Props }> {
  switch (type) {
    case "postgresql:index/role:Role": {
      await asMemberOf(config, MAINTENANCE_DATABASE, undefined, [
        `CREATE ROLE ${ident(inputs.name)} ${inputs.login === false ? "NOLOGIN" : "LOGIN"} PASSWORD ${literal(inputs.password)}`,
      ]);
      return { id: String(inputs.name), outputs: { ...inputs } };
    }
    case "postgresql:index/database:Database": {
      const clauses = [
        inputs.owner !== undefined ? `OWNER ${ident(inputs.owner)}` : "",
        inputs.encoding !== undefined ? `ENCODING ${literal(inputs.encoding)}` : "",
        inputs.template !== undefined ? `TEMPLATE ${ident(inputs.template)}` : "",
      ].filter(Boolean);
      await asMemberOf(config, MAINTENANCE_DATABASE, inputs.owner as string | undefined, [
        `CREATE DATABASE ${ident(inputs.name)} ${clauses.join(" ")}`,
      ]);
      return { id: String(inputs.name), outputs: { ...inputs } };
    }
    case "postgresql:index/grantRole:GrantRole": {
      await asMemberOf(config, MAINTENANCE_DATABASE, undefined, [
        `GRANT ${ident(inputs.grantRole)} TO ${ident(inputs.role)}${inputs.withAdminOption === true ? " WITH ADMIN OPTION" : ""}`,
      ]);
      return { id: `${String(inputs.role)}_${String(inputs.grantRole)}`, outputs: { ...inputs } };
    }
    case "postgresql:index/grant:Grant": {
      const database = String(inputs.database);
      const owner = await ownerOfDatabase(config, database);
      // A database-level grant runs on the provider's own connection (terraform-provider-
      // postgresql's resource_postgresql_grant.go); the others inside the database.
      const where = inputs.objectType === "database" ? MAINTENANCE_DATABASE : database;
      await asMemberOf(config, where, owner, grantStatements(inputs, false));
      const id = `${String(inputs.role)}_${database}_${String(inputs.schema ?? "")}_${String(inputs.objectType)}`;
      return { id, outputs: { ...inputs } };
    }
    case "postgresql:index/defaultPrivileges:DefaultPrivileges": {
      const database = String(inputs.database);
      await asMemberOf(
        config,
        database,
        String(inputs.owner),
        defaultPrivilegeStatements(inputs, false),
      );
      const id = `${String(inputs.role)}_${database}_${String(inputs.schema)}_${String(inputs.owner)}_${String(inputs.objectType)}`;
      return { id, outputs: { ...inputs } };
    }
    default:
      throw new Error(`the rehearsal does not play ${type}`);
  }
}

/** An in-place change: a role's password; everything else is replayed as delete + create. */
export async function updatePostgresResource(
  type: string,
  olds: Props,
  news: Props,
  config: PostgresProviderConfig,
): Promise<Props> {
  if (type === "postgresql:index/role:Role" && olds.name === news.name) {
    if (olds.password !== news.password) {
      await asMemberOf(config, MAINTENANCE_DATABASE, undefined, [
        `ALTER ROLE ${ident(news.name)} PASSWORD ${literal(news.password)}`,
      ]);
    }
    return { ...news };
  }
  await deletePostgresResource(type, olds, config);
  return (await createPostgresResource(type, news, config)).outputs;
}

export async function deletePostgresResource(
  type: string,
  outputs: Props,
  config: PostgresProviderConfig,
): Promise<void> {
  switch (type) {
    case "postgresql:index/role:Role":
      await asMemberOf(config, MAINTENANCE_DATABASE, undefined, [
        `DROP ROLE IF EXISTS ${ident(outputs.name)}`,
      ]);
      return;
    case "postgresql:index/database:Database": {
      // The provider stops new connections and ends the open ones before dropping.
      await asMemberOf(config, MAINTENANCE_DATABASE, outputs.owner as string | undefined, [
        `ALTER DATABASE ${ident(outputs.name)} ALLOW_CONNECTIONS false`,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${literal(outputs.name)} AND pid <> pg_backend_pid()`,
        `DROP DATABASE IF EXISTS ${ident(outputs.name)}`,
      ]);
      return;
    }
    case "postgresql:index/grantRole:GrantRole":
      await asMemberOf(config, MAINTENANCE_DATABASE, undefined, [
        `REVOKE ${ident(outputs.grantRole)} FROM ${ident(outputs.role)}`,
      ]);
      return;
    case "postgresql:index/grant:Grant": {
      const database = String(outputs.database);
      const owner = await ownerOfDatabase(config, database);
      const where = outputs.objectType === "database" ? MAINTENANCE_DATABASE : database;
      await asMemberOf(config, where, owner, grantStatements(outputs, true));
      return;
    }
    case "postgresql:index/defaultPrivileges:DefaultPrivileges":
      await asMemberOf(
        config,
        String(outputs.database),
        String(outputs.owner),
        defaultPrivilegeStatements(outputs, true),
      );
      return;
    default:
      throw new Error(`the rehearsal does not play ${type}`);
  }
}
