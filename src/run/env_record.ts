/**
 * `env.json` in a run folder: what `report` and `aggregate` need to know of the env a run
 * trained on without loading it (a module's code, a Gymnasium worker): its id and how the
 * command line named it, its sizes, its base policy, and its metric declarations. Written
 * by `train`; read back as untrusted input, checked field by field.
 *
 * @module
 */

import type { EnvChoice, EpisodeMetric, VecEnv } from "../env/mod.ts";
import { hasSftPlanner } from "./base_planner.ts";

/** The file name, in the run folder. */
export const ENV_RECORD_FILE = "env.json";

/** What `env.json` holds. */
export interface EnvRecord {
  /** The env's id (`config.json`'s `env_name`, or the default env's). */
  id: string;
  /** How the command line named it: a built-in id, a module, or `gym:ID`. */
  kind: "builtin" | "module" | "gym";
  /** `--env` as given. */
  spec: string;
  /** The env's one-line description. */
  description: string;
  /** Observation size. */
  obs_dim: number;
  /** Action size. */
  action_dim: number;
  /** Shape of one action. */
  action_shape: number[];
  /** Unit of the actions (and the delta), or null. */
  action_unit: string | null;
  /** Whether the env reports success (has a goal). */
  has_success: boolean;
  /** What the delta refines: the env's SFT planner (or a planner file), or zero. */
  base_policy: "sft" | "zero";
  /** The env's planners by name. */
  planners: string[];
  /** Its per-episode metric declarations. */
  metrics: EpisodeMetric[];
}

/**
 * The record of the env `choice`, sized by one of its envs (`probe`).
 *
 * @example
 * ```ts ignore
 * const record = envRecord(choice, pool.make(1));
 * ```
 */
export function envRecord(choice: EnvChoice, probe: VecEnv): EnvRecord {
  const def = choice.definition;
  return {
    id: def.id,
    kind: choice.kind,
    spec: choice.spec,
    description: def.description,
    obs_dim: probe.obsDim,
    action_dim: probe.actionDim,
    action_shape: [...(probe.actionShape ?? [probe.actionDim])],
    action_unit: def.actionUnit ?? null,
    has_success: probe.success !== undefined,
    base_policy: hasSftPlanner(def) ? "sft" : "zero",
    planners: Object.keys(def.planners ?? {}),
    metrics: (def.metrics ?? probe.metrics ?? []).map((m) => JSON.parse(JSON.stringify(m))),
  };
}

const KINDS = ["builtin", "module", "gym"];

/**
 * `value` (parsed `env.json`, read from `file`) checked as an {@linkcode EnvRecord}, or
 * the first problem as one line.
 *
 * @example
 * ```ts ignore
 * const r = parseEnvRecord(JSON.parse(text), "run/env.json");
 * if ("problem" in r) console.error(r.problem);
 * ```
 */
export function parseEnvRecord(
  value: unknown,
  file: string,
): { record: EnvRecord } | { problem: string } {
  const fail = (what: string) => ({ problem: `${file}: ${what}` });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("expected an object");
  }
  const v = value as Record<string, unknown>;
  const str = (k: string) => typeof v[k] === "string" && (v[k] as string).length <= 1000;
  for (const k of ["id", "spec", "description"]) if (!str(k)) return fail(`${k}: expected text`);
  if (!KINDS.includes(v.kind as string)) return fail(`kind: expected ${KINDS.join(", ")}`);
  const size = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 1e7;
  if (!size(v.obs_dim) || !size(v.action_dim)) return fail("obs_dim, action_dim: expected sizes");
  if (!Array.isArray(v.action_shape) || !v.action_shape.every(size)) {
    return fail("action_shape: expected a shape");
  }
  if (v.action_unit !== null && !str("action_unit")) return fail("action_unit: expected text");
  if (typeof v.has_success !== "boolean") return fail("has_success: expected true or false");
  if (v.base_policy !== "sft" && v.base_policy !== "zero") return fail("base_policy: sft or zero");
  if (!Array.isArray(v.planners) || !v.planners.every((p) => typeof p === "string")) {
    return fail("planners: expected a list of names");
  }
  if (!Array.isArray(v.metrics) || v.metrics.length > 1000) return fail("metrics: expected a list");
  const metrics: EpisodeMetric[] = [];
  for (const [i, m] of v.metrics.entries()) {
    const checked = checkMetric(m);
    if (typeof checked === "string") return fail(`metrics[${i}]${checked}`);
    metrics.push(checked);
  }
  return { record: { ...(v as unknown as EnvRecord), metrics } };
}

// A metric declaration rebuilt from untrusted JSON, or what is wrong with it.
function checkMetric(m: unknown): EpisodeMetric | string {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return ": expected an object";
  const r = m as Record<string, unknown>;
  const text = (k: string, optional: boolean) =>
    (optional && r[k] === undefined) ||
    (typeof r[k] === "string" && (r[k] as string).length <= 200);
  if (!text("name", false) || !text("description", false)) return ".name: expected text";
  for (const k of ["unit", "mean", "std"]) if (!text(k, true)) return `.${k}: expected text`;
  if (r.better !== undefined && r.better !== "lower" && r.better !== "higher") {
    return ".better: expected lower or higher";
  }
  const headline = r.headline as Record<string, unknown> | undefined;
  if (
    headline !== undefined &&
    (typeof headline !== "object" || headline === null ||
      (headline.baseline !== undefined && typeof headline.baseline !== "boolean"))
  ) return ".headline: expected {baseline?}";
  if (r.heldout !== undefined && typeof r.heldout !== "boolean") return ".heldout: true or false";
  return {
    name: r.name as string,
    description: r.description as string,
    ...(r.unit !== undefined ? { unit: r.unit as string } : {}),
    ...(r.better !== undefined ? { better: r.better as "lower" | "higher" } : {}),
    ...(r.mean !== undefined ? { mean: r.mean as string } : {}),
    ...(r.std !== undefined ? { std: r.std as string } : {}),
    ...(headline !== undefined
      ? {
        headline: headline.baseline !== undefined ? { baseline: headline.baseline as boolean } : {},
      }
      : {}),
    ...(r.heldout !== undefined ? { heldout: r.heldout as boolean } : {}),
  };
}
