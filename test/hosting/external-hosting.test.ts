/**
 * Bring-your-own servers: no resources, every part of the URL a secret output.
 */
import * as pulumi from "@pulumi/pulumi";
import { installHostingMocks, resetRecorded, settle, summary, valueOf } from "./pulumi-mocks";
import { externalPostgresServer, externalRedisServer } from "../../infra/hosting/external";
import { parseHostingConfig } from "../../infra/hosting/config-schema";

beforeAll(installHostingMocks);

const ADMIN_URL = "postgresql://postgres:p%40ss%3Aword@roundhouse.proxy.rlwy.net:41234/railway";

describe("external Postgres", () => {
  it("parses host, port, user and password as secrets without creating anything", async () => {
    resetRecorded();
    const config = parseHostingConfig({
      postgres: { hosting: "external", external: { adminUrl: ADMIN_URL } },
    });
    const server = externalPostgresServer(config.postgres.external);
    await settle(server.adminHost);
    expect(summary()).toEqual([]);
    expect(server.sslMode).toBe("require");
    expect(server.readyResources).toEqual([]);
    const parts: Record<string, pulumi.Output<unknown>> = {
      adminHost: server.adminHost,
      adminPort: server.adminPort,
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
      appHost: server.appHost,
      appPort: server.appPort,
    };
    const values: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(parts)) {
      values[key] = await valueOf(output);
      expect([key, await pulumi.isSecret(output)]).toEqual([key, true]);
    }
    expect(values).toEqual({
      adminHost: "roundhouse.proxy.rlwy.net",
      adminPort: 41234,
      adminUser: "postgres",
      adminPassword: "p@ss:word",
      appHost: "roundhouse.proxy.rlwy.net",
      appPort: 41234,
    });
  });

  it("takes the app's host and port and the URL's sslmode when given", async () => {
    const config = parseHostingConfig({
      postgres: {
        hosting: "external",
        external: {
          adminUrl: "postgres://admin:pw@[2001:db8::5]/postgres?sslmode=verify-full",
          appHost: "postgres.railway.internal",
          appPort: 5432,
        },
      },
    });
    const server = externalPostgresServer(config.postgres.external);
    expect(server.sslMode).toBe("verify-full");
    expect(await valueOf(server.adminHost)).toBe("2001:db8::5");
    expect(await valueOf(server.adminPort)).toBe(5432);
    expect(await valueOf(server.appHost)).toBe("postgres.railway.internal");
    expect(await valueOf(server.appPort)).toBe(5432);
  });
});

describe("external Redis", () => {
  it("keeps the URL secret and derives TLS from its scheme", async () => {
    for (const [url, tls, host, port] of [
      ["rediss://default:pw@redis.example.com:6380", true, "redis.example.com", 6380],
      ["redis://:pw@redis.railway.internal", false, "redis.railway.internal", 6379],
    ] as const) {
      const config = parseHostingConfig({ redis: { hosting: "external", external: { url } } });
      const redis = externalRedisServer(config.redis.external);
      expect(redis.tls).toBe(tls);
      expect(await valueOf(redis.url)).toBe(url);
      expect(await valueOf(redis.host)).toBe(host);
      expect(await valueOf(redis.port)).toBe(port);
      const outputs: pulumi.Output<unknown>[] = [redis.url, redis.host, redis.port];
      for (const output of outputs) {
        expect(await pulumi.isSecret(output)).toBe(true);
      }
    }
  });
});
