/**
 * `synter:postgres:AuthDatabase`: the auth database, its three roles and their grants on any
 * Postgres server (Railway, Cloud SQL, external), rendered from the one declaration in
 * `schema/roles.ts`.
 *
 * Ordering, on create: roles → database (owned by the migrator) → each grant after the previous
 * one (@pulumi/postgresql grants applied in parallel fail with "tuple concurrently updated").
 * On destroy Pulumi walks that graph backwards: grants are revoked, then the database is dropped
 * (taking every object the migrator owns in it), and only then the roles — a role that still
 * owns objects or holds privileges cannot be dropped, which is why the database depends on all
 * three roles and not only on its owner. Data is never dropped by the migrations resource; on
 * protected stacks `protect` stops Pulumi from dropping the database at all.
 */
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import {
  AUTH_DATABASE,
  AUTH_ROLE_KINDS,
  AUTH_SCHEMA,
  OWNER_ROLE,
  authDatabaseNameProblems,
  authDatabaseSettings,
  authGrantKey,
  authGrants,
  authRoleNames,
  type AuthGrant,
  type AuthRoleKind,
} from "../../schema/roles";
import type { PostgresServer } from "../hosting/types";
import { postgresConnectionUrl } from "./connection-url";

export interface AuthDatabaseArgs {
  /** The server to create the database on; its admin login creates roles and grants. */
  readonly server: PostgresServer;
  /** Database name. Default `synter`; PR stacks on dev's server pass `synter_pr_<n>`. */
  readonly databaseName?: string;
  /** Pulumi `protect` on the database and roles (staging, prod). Default false. */
  readonly protect?: boolean;
}

/** Random password length: 32 alphanumerics (~190 bits), no characters that need URL escaping. */
export const AUTH_PASSWORD_LENGTH = 32;

export class AuthDatabase extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly roleNames: Readonly<Record<AuthRoleKind, string>>;
  /** The app role's URL on the app host: the stack's `postgresUrl`. Secret. */
  readonly appUrl: pulumi.Output<string>;
  /** The migrator's URL on the admin host, for the migrations resource and CI. Secret. */
  readonly migratorUrl: pulumi.Output<string>;
  /** The read-only role's URL on the admin host, for analysts. Secret. */
  readonly readonlyUrl: pulumi.Output<string>;
  /** The last grant: whatever connects as these roles (migrations) must depend on it. */
  readonly ready: pulumi.Resource;
  readonly provider: postgresql.Provider;

  constructor(name: string, args: AuthDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:postgres:AuthDatabase", name, {}, opts);
    const database = args.databaseName ?? AUTH_DATABASE;
    const problems = authDatabaseNameProblems(database);
    if (problems.length > 0) {
      throw new pulumi.InputPropertyError({
        propertyPath: "databaseName",
        reason: `invalid databaseName: ${problems.join("; ")}`,
      });
    }
    const { server } = args;
    const protect = args.protect ?? false;
    this.roleNames = authRoleNames(database);

    this.provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: server.adminHost,
        port: server.adminPort,
        username: server.adminUser,
        password: server.adminPassword,
        sslmode: server.sslMode,
        // Cloud SQL and Railway's admin logins are not true superusers; with false the provider
        // grants itself membership of a role's owner when it needs to (ALTER DEFAULT PRIVILEGES).
        superuser: false,
      },
      { parent: this, dependsOn: [...server.readyResources] },
    );
    const childOptions = { parent: this, provider: this.provider };

    const passwords = {} as Record<AuthRoleKind, random.RandomPassword>;
    const roles = {} as Record<AuthRoleKind, postgresql.Role>;
    for (const kind of AUTH_ROLE_KINDS) {
      passwords[kind] = new random.RandomPassword(
        `${name}-${kind}-password`,
        { length: AUTH_PASSWORD_LENGTH, special: false },
        { parent: this },
      );
      roles[kind] = new postgresql.Role(
        `${name}-${kind}`,
        { name: this.roleNames[kind], login: true, password: passwords[kind].result },
        { ...childOptions, dependsOn: [...server.readyResources], protect },
      );
    }

    // The admin login is no superuser (Cloud SQL's never is; the rehearsal plays Railway's the
    // same way). Once PUBLIC loses CONNECT on the database, the provider — which connects *into*
    // the database for schema and table grants — could no longer get in, nor change default
    // privileges for the owner. Membership of the owner role gives it both, for every later `up`.
    const adminMembership = new postgresql.GrantRole(
      `${name}-admin-in-${OWNER_ROLE}`,
      { role: server.adminUser, grantRole: roles[OWNER_ROLE].name },
      { ...childOptions, protect },
    );

    const databaseResource = new postgresql.Database(
      `${name}-database`,
      {
        name: database,
        owner: roles[OWNER_ROLE].name,
        encoding: authDatabaseSettings.encoding,
        template: authDatabaseSettings.template,
      },
      // All three roles, not only the owner: on destroy the database must go before any role.
      {
        ...childOptions,
        dependsOn: [...AUTH_ROLE_KINDS.map((kind) => roles[kind]), adminMembership],
        protect,
      },
    );
    this.databaseName = databaseResource.name;

    let previous: pulumi.Resource = databaseResource;
    for (const grant of authGrants) {
      previous = createGrant(`${name}-${authGrantKey(grant)}`, grant, {
        database: databaseResource.name,
        roleNames: this.roleNames,
        opts: { ...childOptions, dependsOn: [previous] },
      });
    }
    this.ready = previous;

    const urlFor = (kind: AuthRoleKind, host: pulumi.Output<string>, port: pulumi.Output<number>) =>
      pulumi.secret(
        pulumi
          .all([passwords[kind].result, host, port, databaseResource.name])
          .apply(([password, h, p, db]) =>
            postgresConnectionUrl({
              user: this.roleNames[kind],
              password,
              host: h,
              port: p,
              database: db,
              sslMode: server.sslMode,
            }),
          ),
      );
    this.appUrl = urlFor("app", server.appHost, server.appPort);
    this.migratorUrl = urlFor("migrator", server.adminHost, server.adminPort);
    this.readonlyUrl = urlFor("readonly", server.adminHost, server.adminPort);

    this.registerOutputs({
      databaseName: this.databaseName,
      appUrl: this.appUrl,
      migratorUrl: this.migratorUrl,
      readonlyUrl: this.readonlyUrl,
    });
  }
}

interface GrantContext {
  readonly database: pulumi.Input<string>;
  readonly roleNames: Readonly<Record<AuthRoleKind, string>>;
  readonly opts: pulumi.CustomResourceOptions;
}

/** One `authGrants` entry as the @pulumi/postgresql resource with the same (authoritative) meaning. */
function createGrant(
  resourceName: string,
  grant: AuthGrant,
  context: GrantContext,
): pulumi.Resource {
  const { database, roleNames, opts } = context;
  // The provider spells PUBLIC as the role "public".
  const role = grant.grantee === "PUBLIC" ? "public" : roleNames[grant.grantee];
  const privileges = [...grant.privileges];
  switch (grant.on) {
    case "database":
      return new postgresql.Grant(
        resourceName,
        { database, role, objectType: "database", privileges },
        opts,
      );
    case "schema":
      return new postgresql.Grant(
        resourceName,
        { database, role, schema: AUTH_SCHEMA, objectType: "schema", privileges },
        opts,
      );
    case "tables":
    case "sequences":
      // No `objects`: every table (sequence) of the schema that exists when the grant is applied.
      return new postgresql.Grant(
        resourceName,
        {
          database,
          role,
          schema: AUTH_SCHEMA,
          objectType: grant.on === "tables" ? "table" : "sequence",
          privileges,
        },
        opts,
      );
    case "defaultTables":
    case "defaultSequences":
      return new postgresql.DefaultPrivileges(
        resourceName,
        {
          database,
          role,
          schema: AUTH_SCHEMA,
          owner: roleNames[OWNER_ROLE],
          objectType: grant.on === "defaultTables" ? "table" : "sequence",
          privileges,
        },
        opts,
      );
    default:
      return unreachable(grant);
  }
}

function unreachable(value: never): never {
  throw new Error(`unknown grant ${JSON.stringify(value)}`);
}
