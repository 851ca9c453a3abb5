/**
 * The AuthDatabase component under Pulumi's mock runtime: the exact resources, their inputs, the
 * dependency chain that keeps grants from racing, and secret outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthDatabase } from "../../infra/postgres";
import type { PostgresServer } from "../../infra/hosting/types";
import { authGrantKey, authGrants } from "../../schema/roles";
import { installMocks } from "../../src/pulumi/mock-runtime";

interface Created {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}
const created: Created[] = [];

beforeAll(() =>
  installMocks({
    project: "synter",
    stack: "test",
    preview: false,
    mocks: {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state =
          args.type === "random:index/randomPassword:RandomPassword"
            ? { ...args.inputs, result: `Pw${args.name.replace(/[^a-z]/g, "")}` }
            : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
  }),
);

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

function server(sslMode: PostgresServer["sslMode"] = "require"): PostgresServer {
  return {
    adminHost: pulumi.output("admin.example.internal"),
    adminPort: pulumi.output(6543),
    adminUser: pulumi.output("postgres"),
    adminPassword: pulumi.secret("bootstrap-secret"),
    appHost: pulumi.output("postgres.railway.internal"),
    appPort: pulumi.output(5432),
    sslMode,
    readyResources: [],
  };
}

/** Every resource's dependsOn, captured by a transformation on the component. */
type DependsOn = Map<string, pulumi.Resource[]>;
function captureDependsOn(into: DependsOn): pulumi.ResourceTransformation {
  return ({ name, opts }) => {
    into.set(
      name,
      opts.dependsOn === undefined
        ? []
        : ([] as pulumi.Resource[]).concat(opts.dependsOn as pulumi.Resource[]),
    );
    return undefined;
  };
}

async function nameOf(resource: pulumi.Resource): Promise<string> {
  const urn = await valueOf(resource.urn);
  return urn.split("::").pop() ?? urn;
}

async function dependencyNames(dependsOn: DependsOn, name: string): Promise<string[] | undefined> {
  const resources = dependsOn.get(name);
  return resources === undefined ? undefined : Promise.all(resources.map(nameOf));
}

/** The mock runtime hands secret inputs over wrapped with Pulumi's secret signature. */
const SECRET_SIGNATURE = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const secretInput = (value: string) => ({ ...SECRET_SIGNATURE, value });

async function build(databaseName?: string, sslMode?: PostgresServer["sslMode"]) {
  created.length = 0;
  const dependsOn: DependsOn = new Map();
  const component = new AuthDatabase(
    "auth",
    { server: server(sslMode), databaseName },
    { transformations: [captureDependsOn(dependsOn)] },
  );
  // Let every resource registration reach the mocks.
  await valueOf(component.appUrl);
  await nameOf(component.ready);
  return { component, dependsOn };
}

const byName = (name: string) => created.find((r) => r.name === name)?.inputs;
const sortedPairs = (pairs: string[][]) => [...pairs].sort((a, b) => a[1].localeCompare(b[1]));

describe("AuthDatabase", () => {
  it("creates exactly the provider, three passwords, three roles, the database and every grant", async () => {
    await build();
    const expectedGrants = authGrants.map((grant) => [
      grant.on.startsWith("default")
        ? "postgresql:index/defaultPrivileges:DefaultPrivileges"
        : "postgresql:index/grant:Grant",
      `auth-${authGrantKey(grant)}`,
    ]);
    expect(sortedPairs(created.map((r) => [r.type, r.name]))).toEqual(
      sortedPairs([
        ["synter:postgres:AuthDatabase", "auth"],
        ["pulumi:providers:postgresql", "auth-admin"],
        ["random:index/randomPassword:RandomPassword", "auth-migrator-password"],
        ["postgresql:index/role:Role", "auth-migrator"],
        ["random:index/randomPassword:RandomPassword", "auth-app-password"],
        ["postgresql:index/role:Role", "auth-app"],
        ["random:index/randomPassword:RandomPassword", "auth-readonly-password"],
        ["postgresql:index/role:Role", "auth-readonly"],
        // The admin is no superuser: membership of the owner keeps it able to enter the database
        // once PUBLIC loses CONNECT (found by the deploy rehearsal).
        ["postgresql:index/grantRole:GrantRole", "auth-admin-in-migrator"],
        ["postgresql:index/database:Database", "auth-database"],
        ...expectedGrants,
      ]),
    );
    expect(expectedGrants).toHaveLength(13);
  });

  it("makes the admin a member of the migrator role, nothing more", async () => {
    await build();
    expect(byName("auth-admin-in-migrator")).toEqual({
      role: "postgres",
      grantRole: "synter_migrator",
    });
  });

  it("logs in as the server's admin, without assuming a true superuser", async () => {
    await build();
    const provider = created.find((r) => r.name === "auth-admin");
    expect(provider?.inputs).toMatchObject({
      host: "admin.example.internal",
      port: "6543",
      username: "postgres",
      password: secretInput("bootstrap-secret"),
      sslmode: "require",
      superuser: "false",
    });
  });

  it("declares login roles with random alphanumeric passwords and a database owned by the migrator", async () => {
    await build();
    expect(byName("auth-app-password")).toEqual({ length: 32, special: false });
    expect(byName("auth-migrator")).toEqual({
      name: "synter_migrator",
      login: true,
      password: secretInput("Pwauthmigratorpassword"),
    });
    expect(byName("auth-app")).toEqual({
      name: "synter_app",
      login: true,
      password: secretInput("Pwauthapppassword"),
    });
    expect(byName("auth-readonly")).toEqual({
      name: "synter_readonly",
      login: true,
      password: secretInput("Pwauthreadonlypassword"),
    });
    expect(byName("auth-database")).toEqual({
      name: "synter",
      owner: "synter_migrator",
      encoding: "UTF8",
      template: "template0",
    });
  });

  it("renders every grant of schema/roles.ts with the provider's spelling", async () => {
    await build();
    expect(byName("auth-database-public")).toEqual({
      database: "synter",
      role: "public",
      objectType: "database",
      privileges: [],
    });
    expect(byName("auth-schema-public")).toEqual({
      database: "synter",
      role: "public",
      schema: "public",
      objectType: "schema",
      privileges: [],
    });
    expect(byName("auth-schema-migrator")).toEqual({
      database: "synter",
      role: "synter_migrator",
      schema: "public",
      objectType: "schema",
      privileges: ["USAGE", "CREATE"],
    });
    expect(byName("auth-tables-app")).toEqual({
      database: "synter",
      role: "synter_app",
      schema: "public",
      objectType: "table",
      privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"],
    });
    expect(byName("auth-sequences-app")).toEqual({
      database: "synter",
      role: "synter_app",
      schema: "public",
      objectType: "sequence",
      privileges: ["USAGE", "SELECT"],
    });
    expect(byName("auth-defaultTables-app")).toEqual({
      database: "synter",
      role: "synter_app",
      schema: "public",
      owner: "synter_migrator",
      objectType: "table",
      privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"],
    });
    expect(byName("auth-defaultTables-readonly")).toEqual({
      database: "synter",
      role: "synter_readonly",
      schema: "public",
      owner: "synter_migrator",
      objectType: "table",
      privileges: ["SELECT"],
    });
  });

  it("chains every grant on the previous one, the first on the database, and the database on all roles", async () => {
    const { component, dependsOn } = await build();
    const grantNames = authGrants.map((grant) => `auth-${authGrantKey(grant)}`);
    expect(await dependencyNames(dependsOn, "auth-database")).toEqual([
      "auth-migrator",
      "auth-app",
      "auth-readonly",
      "auth-admin-in-migrator",
    ]);
    expect(await dependencyNames(dependsOn, grantNames[0])).toEqual(["auth-database"]);
    for (let i = 1; i < grantNames.length; i++) {
      expect([grantNames[i], await dependencyNames(dependsOn, grantNames[i])]).toEqual([
        grantNames[i],
        [grantNames[i - 1]],
      ]);
    }
    expect(await nameOf(component.ready)).toBe(grantNames[grantNames.length - 1]);
  });

  it("outputs secret URLs per role, with the app role on the app host", async () => {
    const { component } = await build();
    for (const url of [component.appUrl, component.migratorUrl, component.readonlyUrl]) {
      expect(await pulumi.isSecret(url)).toBe(true);
    }
    expect(await valueOf(component.appUrl)).toBe(
      "postgresql://synter_app:Pwauthapppassword@postgres.railway.internal:5432/synter?sslmode=require",
    );
    expect(await valueOf(component.migratorUrl)).toBe(
      "postgresql://synter_migrator:Pwauthmigratorpassword@admin.example.internal:6543/synter?sslmode=require",
    );
    expect(await valueOf(component.readonlyUrl)).toBe(
      "postgresql://synter_readonly:Pwauthreadonlypassword@admin.example.internal:6543/synter?sslmode=require",
    );
    // The only plain output carries no password.
    expect(await pulumi.isSecret(component.databaseName)).toBe(false);
    expect(await valueOf(component.databaseName)).toBe("synter");
  });

  it("derives role names from a PR database so they never collide with dev's roles on the same server", async () => {
    const { component } = await build("synter_pr_12", "disable");
    expect(component.roleNames).toEqual({
      migrator: "synter_pr_12_migrator",
      app: "synter_pr_12_app",
      readonly: "synter_pr_12_readonly",
    });
    expect(await valueOf(component.appUrl)).toBe(
      "postgresql://synter_pr_12_app:Pwauthapppassword@postgres.railway.internal:5432/synter_pr_12?sslmode=disable",
    );
  });

  it("rejects a database name that is not a plain identifier, naming the argument", () => {
    expect(() => new AuthDatabase("bad", { server: server(), databaseName: "Synter-PR" })).toThrow(
      /invalid databaseName: database name "Synter-PR" must be lower-case letters, digits and underscores/s,
    );
  });
});
