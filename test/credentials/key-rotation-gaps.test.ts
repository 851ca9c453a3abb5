/**
 * Key rotation across `pulumi up`s at arbitrary gaps. The program runs under Pulumi's mock
 * runtime, with the mocks standing in for the engine the way it treats these resources between
 * two updates: the state keeps each resource's inputs and outputs; a dynamic resource goes
 * through its own serialized provider (`check` gets the old *inputs*, then diff, create/update);
 * a service-account key whose `keepers` change is replaced (a new key, the old one deleted).
 *
 * The grace period must hold whatever the gap: the key the app was handed after one `up` still
 * exists after the next, and keys still rotate whenever a new period has begun.
 */
import * as pulumi from "@pulumi/pulumi";
import { isDeepStrictEqual } from "node:util";
import {
  AppCredentials,
  KEY_ROTATION_PROVIDER_MODULE,
  advanceKeyRotation,
  keyRotationProvider,
} from "../../infra/credentials";
import { parseHostingConfig } from "../../infra/hosting/config-schema";
import { installMocks } from "../../src/pulumi/mock-runtime";
import { mulberry32 } from "../support/random";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};

const KEY = "gcp:serviceaccount/key:Key";
const DAY_MS = 86_400_000;
const ROTATION_DAYS = 30;
const ANCHOR = "2026-01-01";
const ANCHOR_MS = Date.parse(`${ANCHOR}T00:00:00Z`);

interface Stored {
  id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** The stack's state between updates, and what the current update did to it. */
const engine = {
  state: new Map<string, Stored>(),
  registered: new Set<string>(),
  replaced: [] as string[],
  generation: 0,
};

function keyFile(id: string): string {
  return Buffer.from(JSON.stringify({ type: "service_account", private_key_id: id })).toString(
    "base64",
  );
}

/** What the engine does for a dynamic resource: check(old inputs, news) → diff → create/update. */
async function registerDynamic(
  key: string,
  inputs: Record<string, unknown>,
): Promise<{ id: string; state: Record<string, unknown> }> {
  const provider = requireFromString(String(inputs.__provider)).handler();
  const old = engine.state.get(key);
  const checked = provider.check
    ? ((await provider.check(old?.inputs ?? {}, inputs)).inputs ?? inputs)
    : inputs;
  let stored: Stored;
  if (old === undefined) {
    const created = await provider.create(checked);
    stored = { id: created.id, inputs: checked, outputs: created.outs ?? {} };
  } else {
    const diff = provider.diff
      ? await provider.diff(old.id, old.outputs, checked)
      : { changes: !isDeepStrictEqual(old.inputs, checked) };
    if (diff.replaces !== undefined && diff.replaces.length > 0) {
      const created = await provider.create(checked);
      stored = { id: created.id, inputs: checked, outputs: created.outs ?? {} };
    } else if (diff.changes === false) {
      stored = { ...old, inputs: checked };
    } else {
      const updated = provider.update ? await provider.update(old.id, old.outputs, checked) : {};
      stored = { id: old.id, inputs: checked, outputs: updated.outs ?? checked };
    }
  }
  engine.state.set(key, stored);
  return { id: stored.id, state: stored.outputs };
}

beforeAll(() =>
  installMocks({
    project: "synter",
    stack: "test",
    preview: false,
    mocks: {
      async newResource(args) {
        const key = `${args.type}::${args.name}`;
        engine.registered.add(key);
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type.startsWith("pulumi-nodejs:dynamic/")) return registerDynamic(key, inputs);
        const old = engine.state.get(key);
        if (args.type === KEY) {
          // `keepers` and the account force a new key; create-before-delete keeps the old one until
          // the new one exists, and then deletes it.
          const replace =
            old === undefined ||
            !isDeepStrictEqual(old.inputs.keepers, inputs.keepers) ||
            old.inputs.serviceAccountId !== inputs.serviceAccountId;
          if (replace && old !== undefined) engine.replaced.push(old.id);
          const id = replace ? `${args.name}#${(engine.generation += 1)}` : old.id;
          const stored = { id, inputs, outputs: { ...inputs, privateKey: keyFile(id) } };
          engine.state.set(key, stored);
          return { id, state: stored.outputs };
        }
        const stored = { id: `${args.name}-id`, inputs, outputs: inputs };
        engine.state.set(key, stored);
        return { id: stored.id, state: stored.outputs };
      },
      call: (args) => args.inputs,
    },
  }),
);

const accounts = {
  api: "synter-api@synter-dev.iam.gserviceaccount.com",
  workers: "synter-workers@synter-dev.iam.gserviceaccount.com",
};

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

interface AfterUp {
  /** Key ids that exist after the update, per service. */
  readonly keys: Record<"api" | "workers", string[]>;
  /** The key id each service was handed (GOOGLE_CREDENTIALS_JSON). */
  readonly exported: Record<"api" | "workers", string>;
  /** Keys deleted by this update. */
  readonly deleted: string[];
}

/** One `pulumi up` at `now` against the state the previous ones left. */
async function up(now: Date): Promise<AfterUp> {
  engine.registered.clear();
  engine.replaced = [];
  const config = parseHostingConfig({
    credentials: { rotationDays: ROTATION_DAYS, rotationAnchor: ANCHOR },
  }).credentials;
  const credentials = new AppCredentials("app", { config, serviceAccounts: accounts, now });
  const env = {
    api: await valueOf(credentials.env.api),
    workers: await valueOf(credentials.env.workers),
  };
  await valueOf(credentials.urn);
  await new Promise((resolve) => setImmediate(resolve));
  // Whatever the program no longer registers, the update deletes.
  for (const key of [...engine.state.keys()]) {
    if (!engine.registered.has(key)) engine.state.delete(key);
  }
  const keysOf = (service: string) =>
    [...engine.state.entries()]
      .filter(([key]) => key.startsWith(`${KEY}::app-${service}-key-`))
      .map(([, stored]) => stored.id)
      .sort();
  const exportedId = (vars: Record<string, string>) =>
    (JSON.parse(vars.GOOGLE_CREDENTIALS_JSON) as { private_key_id: string }).private_key_id;
  return {
    keys: { api: keysOf("api"), workers: keysOf("workers") },
    exported: { api: exportedId(env.api), workers: exportedId(env.workers) },
    deleted: [...engine.replaced],
  };
}

function resetEngine(): void {
  engine.state.clear();
  engine.generation = 0;
}

function periodOf(time: number): number {
  return Math.floor((time - ANCHOR_MS) / (ROTATION_DAYS * DAY_MS));
}

const random = mulberry32;

/** Gaps between two `up`s, in periods: none, within one, exactly 1, 2, 5, 100, and in between. */
const GAP_PERIODS = [0, 0.01, 0.5, 1, 1.5, 2, 2.0001, 3, 5, 7.3, 100];

async function expectGracePeriodHolds(times: readonly number[]): Promise<void> {
  resetEngine();
  let previous: { time: number; after: AfterUp } | undefined;
  for (const time of times) {
    const after = await up(new Date(time));
    for (const service of ["api", "workers"] as const) {
      const context = {
        service,
        from: previous && new Date(previous.time).toISOString(),
        to: new Date(time).toISOString(),
      };
      expect({ ...context, count: after.keys[service].length }).toEqual({ ...context, count: 2 });
      expect(after.keys[service]).toContain(after.exported[service]);
      if (previous === undefined) continue;
      const before = previous.after;
      // The key the app was handed by the previous update is still there (and so at least one
      // key that existed before this update).
      expect({ ...context, kept: after.keys[service].includes(before.exported[service]) }).toEqual({
        ...context,
        kept: true,
      });
      // Never both slots in one update.
      const replaced = before.keys[service].filter((id) => !after.keys[service].includes(id));
      expect({ ...context, replaced: replaced.length <= 1 }).toEqual({
        ...context,
        replaced: true,
      });
      // And keys still rotate: a new period hands out a new key, the same period the same one.
      const rotated = after.exported[service] !== before.exported[service];
      expect({ ...context, rotated }).toEqual({
        ...context,
        rotated: periodOf(time) > periodOf(previous.time),
      });
    }
    previous = { time, after };
  }
}

describe("key rotation between two updates, whatever the gap", () => {
  test.each(GAP_PERIODS)("a gap of %p periods keeps the handed-out key", async (gap) => {
    const start = ANCHOR_MS + 3.2 * ROTATION_DAYS * DAY_MS;
    const step = gap * ROTATION_DAYS * DAY_MS;
    await expectGracePeriodHolds([start, start + step, start + 2 * step, start + 3 * step]);
  });

  test("random sequences of updates: the grace period and the rotation hold every time", async () => {
    const next = random(20260101);
    for (let sequence = 0; sequence < 15; sequence += 1) {
      let time = ANCHOR_MS + (next() * 20 - 5) * ROTATION_DAYS * DAY_MS;
      const times = [time];
      for (let update = 0; update < 6; update += 1) {
        const gap =
          next() < 0.5 ? GAP_PERIODS[Math.floor(next() * GAP_PERIODS.length)] : next() * 6;
        time += gap * ROTATION_DAYS * DAY_MS;
        times.push(time);
      }
      await expectGracePeriodHolds(times);
    }
  });

  test("after two idle periods exactly one slot is replaced, the older one", async () => {
    resetEngine();
    const first = await up(new Date("2026-01-31T08:00:00Z"));
    const later = await up(new Date("2026-04-15T08:00:00Z"));
    expect(later.deleted.filter((id) => id.startsWith("app-api-"))).toEqual(
      first.keys.api.filter((id) => id !== first.exported.api),
    );
    expect(later.keys.api).toEqual([first.exported.api, later.exported.api].sort());
  });
});

describe("KeyRotation's provider", () => {
  const seed = { periodStart: "2026-04-01", current: "b", a: "2026-03-02", b: "2026-04-01" };

  test("check: a first creation takes the initial slots as given", () => {
    expect(advanceKeyRotation({}, seed)).toEqual(seed);
  });

  test("check: within the current slot's period nothing changes, whatever the initial slots", () => {
    const olds = { periodStart: "2026-04-01", current: "a", a: "2026-04-01", b: "2026-01-31" };
    expect(advanceKeyRotation(olds, { ...seed, periodStart: "2026-04-01" })).toEqual(olds);
    // A clock (or a changed rotationDays) behind the state renews nothing either.
    expect(advanceKeyRotation(olds, { ...seed, periodStart: "2026-03-02" })).toEqual({
      ...olds,
      periodStart: "2026-03-02",
    });
  });

  test("check: a later period renews only the other slot and makes it current", () => {
    const olds = { periodStart: "2026-04-01", current: "a", a: "2026-04-01", b: "2026-01-31" };
    expect(advanceKeyRotation(olds, { ...seed, periodStart: "2034-06-01" })).toEqual({
      periodStart: "2034-06-01",
      current: "b",
      a: "2026-04-01",
      b: "2034-06-01",
    });
  });

  test("is serialized as the shim naming its module: no checkout path, no logic inlined", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => keyRotationProvider());
    expect(serialized.text).not.toContain(process.cwd());
    expect(serialized.text).toContain(`"${KEY_ROTATION_PROVIDER_MODULE}"`);
    expect(serialized.text).not.toContain("advanceKeyRotation");
    // What Pulumi's dynamic-provider host does: load the text, `handler()`, call it.
    const loaded = requireFromString(serialized.text).handler();
    expect(await loaded.check!({}, seed)).toEqual({ inputs: seed });
    expect(await loaded.diff!("key-rotation", seed, { ...seed, __provider: "x" })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await loaded.diff!("key-rotation", seed, { ...seed, a: "2026-05-01" })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });
});
