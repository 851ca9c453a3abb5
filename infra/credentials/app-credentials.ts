/**
 * `synter:credentials:AppCredentials`: service-account keys for the API and the workers, only
 * when the app runs outside GCP (Railway). On GCP no key exists at all: the attached service
 * account / workload identity is used, and nothing long-lived can leak.
 *
 * Rotation without a gap. Time is cut into periods of `rotationDays` from `rotationAnchor`; each
 * service account has two key slots, `a` and `b`. The first `up` of a new period renews the slot
 * that does not hold the newest key and exports the new key; the other slot keeps the key the app
 * was running with, valid until the next renewal, so the app keeps working until it is
 * redeployed with the new value. Which slot is newest is state, kept by `KeyRotation`
 * (./key-rotation.ts, which explains why no schedule computed from the time alone can do this):
 * one update renews at most one slot whether the previous `up` was a day or a year ago.
 * A slot is replaced through its `keepers`, create-before-delete (`deleteBeforeReplace: false`).
 * Two keys per account also stay far under GCP's limit of ten.
 *
 * Export contract (DESIGN §5): `GOOGLE_CREDENTIALS_JSON` holds the key file's JSON text, a secret.
 * Client libraries take it as `new BigQuery({ credentials: JSON.parse(...) })`, or the app writes it
 * to a file and points `GOOGLE_APPLICATION_CREDENTIALS` at that path. We never put key material in
 * `GOOGLE_APPLICATION_CREDENTIALS`: libraries read that variable as a file path.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { CredentialsConfig } from "../hosting/config-schema";
import { KeyRotation } from "./key-rotation";

export const APP_SERVICES = ["api", "workers"] as const;
export type AppService = (typeof APP_SERVICES)[number];
export const KEY_SLOTS = ["a", "b"] as const;
export type KeySlot = (typeof KEY_SLOTS)[number];

export const CREDENTIALS_JSON_VARIABLE = "GOOGLE_CREDENTIALS_JSON";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The fixed even/odd schedule this program used before `KeyRotation` kept state: now only the
 * initial slots of a stack without rotation state (so a stack that used it keeps its keys), and
 * the period `now` falls in.
 */
export interface KeyRotationPlan {
  /** Index of the period `now` falls in (0 = the period starting at the anchor). */
  readonly period: number;
  /** Per slot, the first day (UTC, YYYY-MM-DD) of the period its current key was created in. */
  readonly keepers: Readonly<Record<KeySlot, string>>;
  /** The slot whose key is newest: the one to export. */
  readonly current: KeySlot;
  /** The first day (UTC, YYYY-MM-DD) of the period `now` falls in. */
  readonly periodStart: string;
}

function periodStartDay(anchorMs: number, period: number, rotationDays: number): string {
  return new Date(anchorMs + period * rotationDays * DAY_MS).toISOString().slice(0, 10);
}

/** Pure: which key each slot holds at `now` on the fixed schedule (slot a from even periods). */
export function keyRotationPlan(
  now: Date,
  rotationAnchor: string,
  rotationDays: number,
): KeyRotationPlan {
  const anchorMs = Date.parse(`${rotationAnchor}T00:00:00Z`);
  if (Number.isNaN(anchorMs)) throw new Error("credentials.rotationAnchor: is not a real date");
  const period = Math.floor((now.getTime() - anchorMs) / (rotationDays * DAY_MS));
  // Slot a is renewed at even periods, slot b at odd ones.
  const startA = 2 * Math.floor(period / 2);
  const startB = 2 * Math.floor((period + 1) / 2) - 1;
  return {
    period,
    keepers: {
      a: periodStartDay(anchorMs, startA, rotationDays),
      b: periodStartDay(anchorMs, startB, rotationDays),
    },
    current: startA === period ? "a" : "b",
    periodStart: periodStartDay(anchorMs, period, rotationDays),
  };
}

/** The key file JSON from the provider's base64 `privateKey`, kept secret. */
export function decodeKeyFile(privateKey: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.output(privateKey).apply((b64) => Buffer.from(b64, "base64").toString("utf8")),
  );
}

export interface AppCredentialsArgs {
  readonly config: CredentialsConfig;
  /** Service account emails (or ids) of the API and the workers. */
  readonly serviceAccounts: Readonly<Record<AppService, pulumi.Input<string>>>;
  /** The time of this run; rotation periods are computed from it. */
  readonly now: Date;
}

export class AppCredentials extends pulumi.ComponentResource {
  /** Per service, the variables carrying its credentials: empty on GCP. Secret. */
  readonly env: Readonly<Record<AppService, pulumi.Output<Record<string, string>>>>;
  /** Key resources by service and slot; empty on GCP. */
  readonly keys: Readonly<Record<AppService, Partial<Record<KeySlot, gcp.serviceaccount.Key>>>>;
  /** Present outside GCP: which slot holds the newest key (state; see KeyRotation). */
  readonly rotation: KeyRotation | undefined;

  constructor(name: string, args: AppCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:credentials:AppCredentials", name, {}, opts);
    const { config } = args;
    if (!config.appOutsideGcp) {
      this.rotation = undefined;
      this.keys = { api: {}, workers: {} };
      const none = (): pulumi.Output<Record<string, string>> =>
        pulumi.secret(pulumi.output<Record<string, string>>({}));
      this.env = { api: none(), workers: none() };
      this.registerOutputs({});
      return;
    }
    const plan = keyRotationPlan(args.now, config.rotationAnchor, config.rotationDays);
    // One rotation for both accounts: their keys are renewed in the same updates.
    const rotation = new KeyRotation(
      `${name}-rotation`,
      { periodStart: plan.periodStart, initial: { current: plan.current, ...plan.keepers } },
      { parent: this },
    );
    this.rotation = rotation;
    const keepers: Record<KeySlot, pulumi.Output<string>> = { a: rotation.a, b: rotation.b };
    const keys: Record<AppService, Partial<Record<KeySlot, gcp.serviceaccount.Key>>> = {
      api: {},
      workers: {},
    };
    const credentialsEnv = (service: AppService): pulumi.Output<Record<string, string>> => {
      const slots = {} as Record<KeySlot, gcp.serviceaccount.Key>;
      for (const slot of KEY_SLOTS) {
        slots[slot] = new gcp.serviceaccount.Key(
          `${name}-${service}-key-${slot}`,
          {
            serviceAccountId: args.serviceAccounts[service],
            keepers: { period: keepers[slot] },
          },
          {
            parent: this,
            // The new key must exist before the old one goes (Pulumi's default, stated on purpose).
            deleteBeforeReplace: false,
            additionalSecretOutputs: ["privateKey"],
          },
        );
      }
      keys[service] = slots;
      const privateKey = pulumi
        .all([rotation.current, slots.a.privateKey, slots.b.privateKey])
        .apply(([current, a, b]) => (current === "a" ? a : b));
      return pulumi.secret(
        decodeKeyFile(privateKey).apply((json): Record<string, string> => ({
          [CREDENTIALS_JSON_VARIABLE]: json,
        })),
      );
    };
    this.env = { api: credentialsEnv("api"), workers: credentialsEnv("workers") };
    this.keys = keys;
    this.registerOutputs({});
  }
}
