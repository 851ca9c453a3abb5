/**
 * Service-account keys for the app: none on GCP; outside GCP two slots per account rotated in
 * turn, create-before-delete, exported as the key file's JSON (never as a path variable).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  captureOptions,
  fakeKeyFile,
  inputsOf,
  installHostingMocks,
  resetRecorded,
  settle,
  summary,
  valueOf,
  type CapturedOptions,
} from "../hosting/pulumi-mocks";
import { AppCredentials, keyRotationPlan } from "../../infra/credentials";
import { parseHostingConfig } from "../../infra/hosting/config-schema";

beforeAll(installHostingMocks);

const KEY = "gcp:serviceaccount/key:Key";
const accounts = {
  api: "synter-api@synter-dev.iam.gserviceaccount.com",
  workers: "synter-workers@synter-dev.iam.gserviceaccount.com",
};

async function build(raw: Record<string, unknown>, now: Date) {
  resetRecorded();
  const options = new Map<string, CapturedOptions>();
  const config = parseHostingConfig({ credentials: raw }).credentials;
  const credentials = new AppCredentials(
    "app",
    { config, serviceAccounts: accounts, now },
    { transformations: [captureOptions(options)] },
  );
  await settle(credentials.env.api, credentials.env.workers);
  return { credentials, options };
}

describe("keyRotationPlan", () => {
  it("renews slot a at even periods and slot b at odd ones", () => {
    // 30-day periods from 2026-01-01: period 0 = Jan 1, 1 = Jan 31, 2 = Mar 2, 3 = Apr 1.
    expect(keyRotationPlan(new Date("2026-01-01T00:00:00Z"), "2026-01-01", 30)).toEqual({
      period: 0,
      keepers: { a: "2026-01-01", b: "2025-12-02" },
      current: "a",
      periodStart: "2026-01-01",
    });
    expect(keyRotationPlan(new Date("2026-01-30T23:59:59Z"), "2026-01-01", 30)).toEqual({
      period: 0,
      keepers: { a: "2026-01-01", b: "2025-12-02" },
      current: "a",
      periodStart: "2026-01-01",
    });
    expect(keyRotationPlan(new Date("2026-01-31T00:00:00Z"), "2026-01-01", 30)).toEqual({
      period: 1,
      keepers: { a: "2026-01-01", b: "2026-01-31" },
      current: "b",
      periodStart: "2026-01-31",
    });
    expect(keyRotationPlan(new Date("2026-03-02T12:00:00Z"), "2026-01-01", 30)).toEqual({
      period: 2,
      keepers: { a: "2026-03-02", b: "2026-01-31" },
      current: "a",
      periodStart: "2026-03-02",
    });
  });

  it("on a daily up, the fixed schedule renews one slot at each period boundary", () => {
    const anchor = "2026-01-01";
    let previous = keyRotationPlan(new Date("2025-06-01T00:00:00Z"), anchor, 7);
    for (let day = 1; day < 400; day += 1) {
      const now = new Date(Date.parse("2025-06-01T00:00:00Z") + day * 86_400_000);
      const plan = keyRotationPlan(now, anchor, 7);
      const changed = (["a", "b"] as const).filter(
        (slot) => plan.keepers[slot] !== previous.keepers[slot],
      );
      if (plan.period === previous.period) {
        expect(changed).toEqual([]);
      } else {
        // Exactly the exported slot changes; the other keeps the key the app may still use.
        expect(changed).toEqual([plan.current]);
        expect(plan.current).not.toBe(previous.current);
      }
      previous = plan;
    }
  });
});

describe("AppCredentials", () => {
  it("creates no key at all when the app runs on GCP", async () => {
    const { credentials } = await build({ appOutsideGcp: false }, new Date("2026-05-01Z"));
    expect(summary()).toEqual(["synter:credentials:AppCredentials app"]);
    expect(await valueOf(credentials.env.api)).toEqual({});
    expect(await valueOf(credentials.env.workers)).toEqual({});
    expect(credentials.rotation).toBeUndefined();
  });

  it("creates two create-before-delete keys per account outside GCP, and their rotation", async () => {
    const { options } = await build({ rotationDays: 30 }, new Date("2026-01-31T08:00:00Z"));
    expect(summary()).toEqual([
      `${KEY} app-api-key-a`,
      `${KEY} app-api-key-b`,
      `${KEY} app-workers-key-a`,
      `${KEY} app-workers-key-b`,
      "pulumi-nodejs:dynamic/synter:KeyRotation app-rotation",
      "synter:credentials:AppCredentials app",
    ]);
    // A first creation starts from the fixed schedule at `now` (so a stack that used it keeps its
    // keys); later updates advance it from the state (test/credentials/key-rotation-gaps.test.ts).
    expect(inputsOf("pulumi-nodejs:dynamic/synter:KeyRotation", "app-rotation")).toEqual({
      periodStart: "2026-01-31",
      current: "b",
      a: "2026-01-01",
      b: "2026-01-31",
    });
    expect(inputsOf(KEY, "app-api-key-a")).toEqual({
      serviceAccountId: accounts.api,
      keepers: { period: "2026-01-01" },
    });
    expect(inputsOf(KEY, "app-workers-key-b")).toEqual({
      serviceAccountId: accounts.workers,
      keepers: { period: "2026-01-31" },
    });
    for (const name of [
      "app-api-key-a",
      "app-api-key-b",
      "app-workers-key-a",
      "app-workers-key-b",
    ]) {
      expect(options.get(name)?.deleteBeforeReplace).toBe(false);
      expect(options.get(name)?.additionalSecretOutputs).toContain("privateKey");
    }
  });

  it("exports the newest key's JSON as a secret, never in GOOGLE_APPLICATION_CREDENTIALS", async () => {
    const { credentials } = await build({ rotationDays: 30 }, new Date("2026-01-31T08:00:00Z"));
    expect(await valueOf(credentials.env.workers)).toEqual({
      GOOGLE_CREDENTIALS_JSON: fakeKeyFile("app-workers-key-b"),
    });
    expect(await valueOf(credentials.env.api)).toEqual({
      GOOGLE_CREDENTIALS_JSON: fakeKeyFile("app-api-key-b"),
    });
    expect(await pulumi.isSecret(credentials.env.workers)).toBe(true);
    expect(await pulumi.isSecret(credentials.env.api)).toBe(true);
    // The exported value is the key file itself, which client libraries parse.
    const json = (await valueOf(credentials.env.workers)).GOOGLE_CREDENTIALS_JSON;
    expect(JSON.parse(json)).toEqual({
      type: "service_account",
      private_key_id: "id-app-workers-key-b",
    });
  });

  it("without rotation state, starts from the fixed schedule at now and exports its newest slot", async () => {
    await build({ rotationDays: 30 }, new Date("2026-01-31T08:00:00Z"));
    const before = ["app-api-key-a", "app-api-key-b"].map((name) => inputsOf(KEY, name).keepers);
    const { credentials } = await build({ rotationDays: 30 }, new Date("2026-03-02T08:00:00Z"));
    const after = ["app-api-key-a", "app-api-key-b"].map((name) => inputsOf(KEY, name).keepers);
    expect(before).toEqual([{ period: "2026-01-01" }, { period: "2026-01-31" }]);
    // The mocks keep no state: each build is a first creation, at two different times.
    expect(after).toEqual([{ period: "2026-03-02" }, { period: "2026-01-31" }]);
    expect(await valueOf(credentials.env.api)).toEqual({
      GOOGLE_CREDENTIALS_JSON: fakeKeyFile("app-api-key-a"),
    });
  });
});
