/**
 * The SDK internals infra/pulumi-internals.ts adapts still exist in the installed @pulumi/pulumi,
 * and nothing else reaches past a package's public API: a new direct import of Pulumi's runtime or
 * protocol modules, of node-pg-migrate's dist/, or a copy of the unknown sentinel fails here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  dynamicProviderHostPath,
  isConfigSecret,
  providerProtocol,
  PULUMI_UNKNOWN_VALUE,
  resourceMonitor,
  sdkUnknownValue,
  waitForPendingRegistrations,
} from "../../infra/pulumi-internals";
import { installMocks } from "../../src/pulumi/mock-runtime";

const ROOT = path.resolve(__dirname, "..", "..");

test("the unknown sentinel is the SDK's", () => {
  expect(PULUMI_UNKNOWN_VALUE).toBe(sdkUnknownValue());
});

describe("under the mock runtime", () => {
  beforeAll(() =>
    installMocks({
      project: "synter",
      stack: "test",
      preview: false,
      config: { "synter:plain": "a", "synter:hidden": "b" },
      secretKeys: ["synter:hidden"],
      mocks: {
        newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
        call: (args) => args.inputs,
      },
    }),
  );

  test("the resource monitor has the calls the mock runner wraps", async () => {
    const monitor = resourceMonitor() as Record<string, unknown>;
    expect(typeof monitor.registerResource).toBe("function");
    expect(typeof monitor.readResource).toBe("function");
    await expect(waitForPendingRegistrations()).resolves.toBeUndefined();
  });

  test("isConfigSecret tells the keys set as secrets", () => {
    expect(pulumi.runtime.allConfig()).toEqual({ "synter:plain": "a", "synter:hidden": "b" });
    expect(isConfigSecret("synter:hidden")).toBe(true);
    expect(isConfigSecret("synter:plain")).toBe(false);
    expect(isConfigSecret("synter:absent")).toBe(false);
  });
});

test("the dynamic-provider host and the provider protocol are where the adapter looks", () => {
  expect(fs.existsSync(dynamicProviderHostPath())).toBe(true);
  const protocol = providerProtocol();
  expect(typeof protocol.service.ResourceProviderClient).toBe("function");
  expect(typeof protocol.messages.CreateRequest).toBe("function");
  expect(typeof protocol.Struct.fromJavaScript).toBe("function");
});

/** The two adapters: the only files allowed to name these modules. */
const ADAPTERS = ["infra/pulumi-internals.ts", "src/migrate/node-pg-migrate-internals.ts"];

// Spelt in pieces so that this file, which is scanned too, does not match itself.
const FORBIDDEN = [
  ["@pulumi", "pulumi", "runtime", ""].join("/"),
  ["@pulumi", "pulumi", "proto", ""].join("/"),
  ["node-pg-migrate", "dist"].join("/"),
  PULUMI_UNKNOWN_VALUE,
];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(?:[cm]?[jt]s)$/.test(entry.name) ? [full] : [];
  });
}

test("only the adapters name SDK or node-pg-migrate internals", () => {
  const files = ["src", "infra", "test"]
    .flatMap((dir) => sourceFiles(path.join(ROOT, dir)))
    .map((file) => path.relative(ROOT, file).split(path.sep).join("/"));
  expect(files).toContain("test/pulumi/internals.test.ts");
  for (const adapter of ADAPTERS) expect(files).toContain(adapter);
  // The needles are spelt right: together the adapters hold every one of them.
  const adapterText = ADAPTERS.map((file) => fs.readFileSync(path.join(ROOT, file), "utf8")).join();
  expect(FORBIDDEN.filter((needle) => !adapterText.includes(needle))).toEqual([]);
  const offences = files
    .filter((file) => !ADAPTERS.includes(file))
    .flatMap((file) => {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      return FORBIDDEN.filter((needle) => text.includes(needle)).map(
        (needle) => `${file}: ${needle}`,
      );
    });
  expect(offences).toEqual([]);
});
