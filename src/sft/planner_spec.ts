/**
 * Base planners as plain data: what another thread (the evaluation Worker) or the ONNX
 * export needs to know of a planner to build one that plans exactly as it does. The zero
 * and MLP planners are data themselves; a planner an env's registry entry made (one of
 * its `planners`, or its wrap of a planner file) is recorded as such when it is made
 * ({@linkcode withSpec}); any other planner has no spec and is evaluated where it lives.
 *
 * @module
 */

import type { BasePlanner, EnvDefinition, EnvSettings, WaypointPlanner } from "../env/mod.ts";
import { Rng } from "../math/mod.ts";
import { MlpPlanner } from "./mlp_planner.ts";
import { ZeroPlanner } from "./planner.ts";

/** An MLP planner as data. */
export interface MlpSpec {
  kind: "mlp";
  inDim: number;
  hidden: number;
  horizon: number;
  params: Float64Array;
}

/** A base planner as data (structured-clone safe). */
export type PlannerSpec =
  | { kind: "zero"; obsDim: number; actionDim: number }
  /** The env's planner of that name (`EnvDefinition.planners`). */
  | { kind: "entry"; name: string }
  | MlpSpec
  /** An MLP planner file wrapped by the env (`EnvDefinition.plannerFile.wrap`). */
  | { kind: "file"; inner: MlpSpec };

// specs recorded when an env's entry made the planner
const recorded = new WeakMap<object, PlannerSpec>();

/**
 * Records that `planner` is what `spec` builds, and returns it.
 *
 * @example
 * ```ts ignore
 * const sft = withSpec(def.planners.sft.make(settings), { kind: "entry", name: "sft" });
 * ```
 */
export function withSpec<P extends BasePlanner>(planner: P, spec: PlannerSpec): P {
  recorded.set(planner, spec);
  return planner;
}

/**
 * The spec of `planner`, or null when it has none (not one of the cases above: a
 * subclass may plan differently). The weights of an MLP planner are copied.
 *
 * @example
 * ```ts
 * import { ZeroPlanner } from "./planner.ts";
 * plannerSpec(new ZeroPlanner({ obsDim: 2, actionDim: 1 }))?.kind; // "zero"
 * ```
 */
export function plannerSpec(planner: BasePlanner): PlannerSpec | null {
  const known = recorded.get(planner);
  if (known) return known.kind === "file" ? { kind: "file", inner: copyMlp(known.inner) } : known;
  switch (planner.constructor) {
    case ZeroPlanner:
      return { kind: "zero", obsDim: planner.obsDim, actionDim: planner.actionDim };
    case MlpPlanner:
      return mlpSpec(planner as MlpPlanner);
    default:
      return null;
  }
}

/**
 * The MLP planner `m` as data (a copy of its weights).
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * import { MlpPlanner } from "./mlp_planner.ts";
 * mlpSpec(new MlpPlanner({ inDim: 3, hidden: 2, horizon: 1, rng: new Rng(0) })).params.length; // 14
 * ```
 */
export function mlpSpec(m: MlpPlanner): MlpSpec {
  const { obsDim: inDim, hidden, horizon } = m;
  return { kind: "mlp", inDim, hidden, horizon, params: m.params.data.slice() };
}

function copyMlp(spec: MlpSpec): MlpSpec {
  return { ...spec, params: spec.params.slice() };
}

/**
 * Builds the planner `spec` describes (the inverse of {@linkcode plannerSpec}) for the
 * env `env.definition` with the settings `env.settings`.
 *
 * @example
 * ```ts ignore
 * const zero = plannerFromSpec({ kind: "zero", obsDim: 2, actionDim: 1 }, { definition, settings });
 * ```
 */
export function plannerFromSpec(
  spec: PlannerSpec,
  env: { definition: EnvDefinition; settings: EnvSettings },
): BasePlanner {
  const { definition, settings } = env;
  switch (spec.kind) {
    case "zero":
      return new ZeroPlanner(spec);
    case "entry": {
      const entry = definition.planners?.[spec.name];
      if (!entry) {
        throw new RangeError(`plannerFromSpec: ${definition.id} has no planner ${spec.name}`);
      }
      return withSpec(entry.make(settings), spec);
    }
    case "mlp":
      return mlpFromSpec(spec);
    case "file": {
      const inner: WaypointPlanner = mlpFromSpec(spec.inner);
      const wrap = definition.plannerFile?.wrap;
      return withSpec(wrap ? wrap(inner, settings) : inner, spec);
    }
  }
}

/**
 * The MLP planner of `spec`, its weights copied in.
 *
 * @example
 * ```ts ignore
 * const planner = mlpFromSpec(mlpSpec(other));
 * ```
 */
export function mlpFromSpec(spec: MlpSpec): MlpPlanner {
  const planner = new MlpPlanner({ ...spec, rng: new Rng(0) });
  if (spec.params.length !== planner.params.data.length) {
    throw new RangeError(
      `plannerFromSpec: mlp params hold ${spec.params.length} numbers, the sizes need ${planner.params.data.length}`,
    );
  }
  planner.params.data.set(spec.params);
  return planner;
}
