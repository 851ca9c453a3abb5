/**
 * RailwayClient against the stand-in server: retries (429 with Retry-After, 5xx, dropped
 * connections), bounded attempts, Railway's error message surfaced, and the token kept out of
 * every error, log line and serialised view.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import {
  RailwayApiError,
  RailwayClient,
  RailwayTokenMissingError,
  backoffDelayMs,
  parseRetryAfterMs,
  resolveRailwayToken,
  DEFAULT_RETRY_POLICY,
} from "../../infra/railway/client";
import { RailwayStandInServer } from "./stand-in-server";

const token = `test-token-${randomUUID()}`;
const server = new RailwayStandInServer(token);

beforeAll(() => server.start());
afterAll(() => server.stop());

interface Harness {
  client: RailwayClient;
  sleeps: number[];
  logs: string[];
}

function harness(overrides: { token?: string; maxAttempts?: number } = {}): Harness {
  const sleeps: number[] = [];
  const logs: string[] = [];
  const client = new RailwayClient({
    token: overrides.token ?? token,
    endpoint: server.url,
    retry: { maxAttempts: overrides.maxAttempts ?? 4 },
    // Recorded instead of waited: the tests assert the delays the client chose.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    log: (line) => logs.push(line),
  });
  return { client, sleeps, logs };
}

function seedProjectCount(): number {
  return server.state.projects.size;
}

async function captureError(promise: Promise<unknown>): Promise<RailwayApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RailwayApiError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

describe("RailwayClient", () => {
  beforeEach(() => server.reset());

  it("sends the named document with the bearer token and returns data", async () => {
    const { project } = server.seedProject("client-read");
    const { client } = harness();
    const data = await client.request<{ project: { id: string; name: string } }>("Project", {
      id: project.id,
    });
    expect(data.project).toEqual({
      id: project.id,
      name: "client-read",
      description: null,
      workspaceId: "workspace-default",
    });
    expect(server.requests).toEqual([
      { operationName: "Project", variables: { id: project.id }, authorization: `Bearer ${token}` },
    ]);
  });

  it("waits for Retry-After on 429, then succeeds", async () => {
    const { project } = server.seedProject("client-429");
    server.inject({ operation: "Project", status: 429, retryAfter: "3" });
    const { client, sleeps, logs } = harness();
    const data = await client.request<{ project: { name: string } }>("Project", { id: project.id });
    expect(data.project.name).toBe("client-429");
    expect(server.operations()).toEqual(["Project", "Project"]);
    expect(sleeps).toEqual([3000]);
    expect(logs).toEqual([
      "Railway Project: Rate limit exceeded; retrying in 3000 ms (attempt 2 of 4)",
    ]);
  });

  it("honours an HTTP-date Retry-After and caps a huge one", () => {
    const now = Date.parse("2026-04-01T00:00:00Z");
    expect(parseRetryAfterMs("Wed, 01 Apr 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfterMs("0", now)).toBe(0);
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
  });

  it("caps Retry-After at maxRetryAfterMs", async () => {
    const { project } = server.seedProject("client-429-cap");
    server.inject({ operation: "Project", status: 429, retryAfter: "86400" });
    const { client, sleeps } = harness();
    await client.request("Project", { id: project.id });
    expect(sleeps).toEqual([DEFAULT_RETRY_POLICY.maxRetryAfterMs]);
  });

  it("backs off exponentially with jitter on 5xx, then succeeds", async () => {
    const { project } = server.seedProject("client-5xx");
    server.inject({ operation: "Project", status: 502, times: 2 });
    const { client, sleeps } = harness();
    const data = await client.request<{ project: { name: string } }>("Project", { id: project.id });
    expect(data.project.name).toBe("client-5xx");
    expect(server.count("Project")).toBe(3);
    // random() = 0.5: half of 500 ms, then half of 1000 ms.
    expect(sleeps).toEqual([250, 500]);
  });

  it("retries a dropped connection", async () => {
    const { project } = server.seedProject("client-drop");
    server.inject({ operation: "Project", dropConnection: true });
    const { client, sleeps } = harness();
    const data = await client.request<{ project: { name: string } }>("Project", { id: project.id });
    expect(data.project.name).toBe("client-drop");
    expect(server.count("Project")).toBe(2);
    expect(sleeps).toEqual([250]);
  });

  it("gives up after maxAttempts with the last failure", async () => {
    server.inject({
      operation: "Projects",
      status: 503,
      times: 10,
      errors: ["Service unavailable"],
    });
    const { client, sleeps } = harness({ maxAttempts: 3 });
    const error = await captureError(client.request("Projects", {}));
    expect(error.message).toBe("Railway Projects failed: HTTP 503: Service unavailable");
    expect(error.operation).toBe("Projects");
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.retryable).toBe(true);
    expect(server.count("Projects")).toBe(3);
    expect(sleeps).toEqual([250, 500]);
  });

  it("does not resend a create after a 5xx (it may have happened), but does after a 429", async () => {
    const before = seedProjectCount();
    server.inject({ operation: "ProjectCreate", status: 500 });
    const { client } = harness();
    const error = await captureError(client.request("ProjectCreate", { input: { name: "once" } }));
    expect(error.kind).toBe("http");
    expect(error.retryable).toBe(true);
    expect(server.count("ProjectCreate")).toBe(1);

    server.inject({ operation: "ProjectCreate", status: 429, retryAfter: "1" });
    await client.request("ProjectCreate", { input: { name: "after-429" } });
    expect(server.count("ProjectCreate")).toBe(3);
    expect(seedProjectCount()).toBe(before + 1);
  });

  it("surfaces Railway's GraphQL error message with the operation name, without retrying", async () => {
    server.inject({ operation: "ServiceCreate", errors: ["Problem processing request"] });
    const { client, sleeps } = harness();
    const error = await captureError(
      client.request("ServiceCreate", { input: { projectId: "project-x" } }),
    );
    expect(error).toBeInstanceOf(RailwayApiError);
    expect(error.message).toBe("Railway ServiceCreate failed: Problem processing request");
    expect(error.kind).toBe("graphql");
    expect(error.railwayMessage).toBe("Problem processing request");
    expect(error.retryable).toBe(false);
    expect(sleeps).toEqual([]);
  });

  it("reports an unknown id as not found", async () => {
    const { client } = harness();
    const error = await captureError(client.request("Service", { id: "service-missing" }));
    expect(error.message).toBe("Railway Service failed: Service not found");
    expect(error.notFound).toBe(true);
  });

  it("surfaces a schema violation as graphql-js reports it", async () => {
    const { client } = harness();
    const error = await captureError(client.request("Service", {}));
    expect(error.message).toBe(
      'Railway Service failed: Variable "$id" of required type "String!" was not provided.',
    );
  });

  it("rejects a wrong token with Railway's message", async () => {
    const { client } = harness({ token: "not-the-token" });
    const error = await captureError(client.request("Projects", {}));
    expect(error.message).toBe("Railway Projects failed: Not Authorized");
  });

  it("never lets the token into errors, logs or serialised views", async () => {
    server.inject({
      operation: "Projects",
      status: 500,
      errors: ["boom"],
      echoAuthorization: true,
      times: 2,
    });
    const { client, logs } = harness({ maxAttempts: 2 });
    const error = await captureError(client.request("Projects", {}));
    expect(error.message).toBe(
      "Railway Projects failed: HTTP 500: boom (request had Bearer [redacted])",
    );
    const everything = [
      error.message,
      error.stack ?? "",
      inspect(error),
      JSON.stringify(error),
      ...logs,
      JSON.stringify(client),
      inspect(client, { showHidden: true, depth: 5 }),
    ].join("\n");
    expect(logs).toHaveLength(1);
    expect(everything).not.toContain(token);
  });

  it("fails on an unreachable endpoint with a network error after bounded attempts", async () => {
    // A port that was free a moment ago: nothing listens there any more.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sleeps: number[] = [];
    const client = new RailwayClient({
      token,
      endpoint: `http://127.0.0.1:${port}/graphql/v2`,
      retry: { maxAttempts: 2 },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
    });
    const error = await captureError(client.request("Projects", {}));
    expect(error.kind).toBe("network");
    expect(error.message).toMatch(
      /^Railway Projects failed: network error: fetch failed \(ECONNREFUSED\)$/,
    );
    expect(error.attempts).toBe(2);
    expect(sleeps).toEqual([500]);
    expect(error.message).not.toContain(token);
  });
});

describe("backoffDelayMs", () => {
  it("stays within [0, min(cap, base·2^(n-1))]", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });
});

describe("resolveRailwayToken", () => {
  it("prefers the secret config, then RAILWAY_TOKEN", () => {
    expect(resolveRailwayToken("from-config", { RAILWAY_TOKEN: "from-env" })).toBe("from-config");
    expect(resolveRailwayToken(undefined, { RAILWAY_TOKEN: "from-env" })).toBe("from-env");
    expect(resolveRailwayToken("  ", { RAILWAY_TOKEN: "from-env" })).toBe("from-env");
  });

  it("names both places when there is no token", () => {
    expect(() => resolveRailwayToken(undefined, {})).toThrow(RailwayTokenMissingError);
    expect(() => resolveRailwayToken(undefined, {})).toThrow(
      "No Railway API token: set the secret config `railway:token` " +
        "(pulumi config set --secret railway:token <token>) or the RAILWAY_TOKEN environment variable.",
    );
  });
});
