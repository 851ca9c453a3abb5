/**
 * The logic of `KeyRotation` (./key-rotation.ts), loaded by the serialized shim in Pulumi's
 * dynamic-provider host: the state machine runs in `check`, which the engine hands the resource's
 * previous checked inputs.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Slot keepers: the first day (UTC, YYYY-MM-DD) of the period each slot's key was made in. */
export interface KeyRotationState {
  /** The slot holding the newest key: the one to export. */
  readonly current: "a" | "b";
  readonly a: string;
  readonly b: string;
}

export interface KeyRotationInputs extends KeyRotationState {
  /** The first day of the period `now` falls in. */
  readonly periodStart: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRotationState(value: Record<string, unknown>): boolean {
  return (
    (value.current === "a" || value.current === "b") &&
    typeof value.a === "string" &&
    DAY.test(value.a) &&
    typeof value.b === "string" &&
    DAY.test(value.b)
  );
}

/**
 * Pure: the rotation state after an update, from the previous update's checked inputs (`olds`,
 * empty on creation) and this program run's inputs (`news`: the period and, for a first
 * creation, the initial slots). Days compare as strings (ISO dates).
 */
export function advanceKeyRotation(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Record<string, unknown> {
  const periodStart = String(news.periodStart);
  if (!isRotationState(olds)) return { ...news };
  const current = olds.current === "a" ? "a" : "b";
  const other = current === "a" ? "b" : "a";
  const renewed = String(olds[current]);
  if (periodStart <= renewed) {
    return { ...news, current, a: olds.a, b: olds.b };
  }
  return { ...news, current: other, [current]: renewed, [other]: periodStart };
}

const ROTATION_FIELDS = ["current", "a", "b", "periodStart"] as const;

/** The provider the serialized shim loads in Pulumi's dynamic-provider host. */
export function createKeyRotationProvider(): pulumi.dynamic.ResourceProvider {
  return {
    check: async (olds, news) => ({ inputs: advanceKeyRotation(olds, news) }),
    diff: async (_id, olds, news) => {
      const changed = ROTATION_FIELDS.filter((field) => olds[field] !== news[field]);
      return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    create: async (inputs) => ({ id: "key-rotation", outs: inputs }),
    update: async (_id, _olds, news) => ({ outs: news }),
    // Nothing exists outside the state: deleting the resource deletes nothing.
    delete: async () => undefined,
  };
}
