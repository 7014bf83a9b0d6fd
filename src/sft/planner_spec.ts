/**
 * Base planners as plain data: what another thread (the evaluation Worker) needs to
 * build a planner that plans exactly as this one. Only the planner classes of this
 * project whose plan is a function of their fields have a spec; any other planner
 * (a subclass, a user's own) has none, and is evaluated where it lives.
 *
 * @module
 */

import type { EnvConfig } from "../env/mod.ts";
import { ZPrefixPlanner } from "../env/mod.ts";
import { Rng } from "../math/mod.ts";
import { MlpPlanner } from "./mlp_planner.ts";
import { ZeroPlanner } from "./planner.ts";
import { BuiltinSftPlanner } from "../env/mod.ts";
import type { BasePlanner, WaypointPlanner } from "./planner.ts";

/** A base planner as data (structured-clone safe). */
export type PlannerSpec =
  | { kind: "zero"; obsDim: number; actionDim: number }
  | {
    kind: "builtin";
    /** `horizon_steps` of the env config it was built with. */
    horizon: number;
    lateralOffset: number;
    curvatureScale: number;
    noiseStd: number;
  }
  | { kind: "mlp"; inDim: number; hidden: number; horizon: number; params: Float64Array }
  | { kind: "z_prefix"; obsDim: number; inner: PlannerSpec };

/**
 * The spec of `planner`, or null when it has none (not exactly one of the classes
 * above: a subclass may plan differently). The weights of an MLP planner are copied.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
 * import { BuiltinSftPlanner } from "../env/mod.ts";
 * plannerSpec(new BuiltinSftPlanner(DEFAULT_ENV_CONFIG))?.kind; // "builtin"
 * ```
 */
export function plannerSpec(planner: BasePlanner | WaypointPlanner): PlannerSpec | null {
  switch (planner.constructor) {
    case ZeroPlanner: {
      const z = planner as ZeroPlanner;
      return { kind: "zero", obsDim: z.obsDim, actionDim: z.actionDim };
    }
    case BuiltinSftPlanner: {
      const b = planner as BuiltinSftPlanner;
      const { horizon, lateralOffset, curvatureScale, noiseStd } = b;
      return { kind: "builtin", horizon, lateralOffset, curvatureScale, noiseStd };
    }
    case MlpPlanner: {
      const m = planner as MlpPlanner;
      const { obsDim: inDim, hidden, horizon } = m;
      return { kind: "mlp", inDim, hidden, horizon, params: m.params.data.slice() };
    }
    case ZPrefixPlanner: {
      const p = planner as ZPrefixPlanner;
      const inner = plannerSpec(p.inner);
      return inner === null ? null : { kind: "z_prefix", obsDim: p.obsDim, inner };
    }
    default:
      return null;
  }
}

/**
 * Builds the planner `spec` describes (the inverse of {@linkcode plannerSpec}); `env`
 * is the env config the run plans for (the built-in planner checks it).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
 * const zero = plannerFromSpec({ kind: "zero", obsDim: 2, actionDim: 1 }, DEFAULT_ENV_CONFIG);
 * zero.obsDim; // 2
 * ```
 */
export function plannerFromSpec(spec: PlannerSpec, env: EnvConfig): BasePlanner | WaypointPlanner {
  switch (spec.kind) {
    case "zero":
      return new ZeroPlanner(spec);
    case "builtin":
      return new BuiltinSftPlanner({ ...env, horizon_steps: spec.horizon }, spec);
    case "mlp": {
      const planner = new MlpPlanner({ ...spec, rng: new Rng(0) });
      if (spec.params.length !== planner.params.data.length) {
        throw new RangeError(
          `plannerFromSpec: mlp params hold ${spec.params.length} numbers, the sizes need ${planner.params.data.length}`,
        );
      }
      planner.params.data.set(spec.params);
      return planner;
    }
    case "z_prefix": {
      const inner = plannerFromSpec(spec.inner, env) as WaypointPlanner;
      return new ZPrefixPlanner(inner, { obsDim: spec.obsDim });
    }
  }
}
