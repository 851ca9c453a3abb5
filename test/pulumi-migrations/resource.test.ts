/** The `SchemaMigrations` resource in the resource graph, under Pulumi's mock runtime. */
import * as pulumi from "@pulumi/pulumi";
import { SchemaMigrations } from "../../infra/migrations/schema-migrations";
import { migrationsChecksum, readMigrationFiles } from "../../src/migrate";
import { installMocks } from "../../src/pulumi/mock-runtime";

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
beforeAll(() =>
  installMocks({
    project: "synter",
    stack: "test",
    preview: false,
    mocks: {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
  }),
);

const SECRET_SIGNATURE = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

it("passes the migrator URL as a secret, the files' checksum and names, and a serialized provider", async () => {
  const resource = new SchemaMigrations("auth-migrations", {
    databaseUrl: pulumi.output("postgresql://synter_migrator:pw@db:5432/synter?sslmode=require"),
  });
  await new Promise<void>((resolve) => resource.urn.apply(() => resolve()));
  expect(registered.map((r) => [r.type, r.name])).toEqual([
    ["pulumi-nodejs:dynamic/synter:SchemaMigrations", "auth-migrations"],
  ]);
  const { __provider, migrations, ...inputs } = registered[0].inputs;
  // Dynamic-resource inputs arrive through the mock monitor as array-likes: compare the values.
  expect(Object.values(migrations as object)).toEqual(
    readMigrationFiles().map((file) => file.name),
  );
  expect(inputs).toEqual({
    databaseUrl: {
      ...SECRET_SIGNATURE,
      value: "postgresql://synter_migrator:pw@db:5432/synter?sslmode=require",
    },
    checksum: migrationsChecksum(),
  });
  expect(typeof __provider).toBe("string");
  expect(__provider as string).toContain("provider-entry");
});
