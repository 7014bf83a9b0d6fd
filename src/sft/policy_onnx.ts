/**
 * A trained policy as an ONNX graph (opset 13): from the observation z to the plan
 * the car drives, `final_waypoints = sft_waypoints + clip(delta_head(z), ±delta_clip)`,
 * exactly as `eval` composes it with the delta head's mean.
 *
 * - an MLP planner (an `sft` file) is part of the graph (on the first 1 + 2H numbers of
 *   z when the observation is longer, as on traffic);
 * - the built-in planner is no network: the graph takes its plans as a second input,
 *   `sft_waypoints`;
 * - the zero action (envs whose action is not a plan): the output is the clipped delta,
 *   `final_actions`;
 * - `deltaOnly`: the clipped mean delta alone, `delta`.
 *
 * A running observation normaliser (a checkpoint's `obs_rms`) becomes Sub, Add, Sqrt,
 * Div and Clip nodes in front of the delta head (the planner sees z as it is). Weights
 * are the stored (PyTorch) form: they take the raw observation. The batch dimension is
 * symbolic ("batch").
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { GraphBuilder } from "../io/mod.ts";
import type { OnnxModel, OnnxTensorData, OnnxValueInfo } from "../io/mod.ts";
import type { ActorCritic, ParamSet } from "../nn/mod.ts";
import { MlpPlanner } from "./mlp_planner.ts";
import { mlpFromSpec, plannerSpec } from "./planner_spec.ts";
import type { BasePlanner } from "./planner.ts";

/**
 * A running observation normaliser: the delta head sees
 * `clamp((z - mean) / sqrt(var + epsilon), -clip, clip)` instead of z.
 */
export interface ObsNormalizerStats {
  /** (obs_dim) mean of the observation. */
  mean: Float64Array;
  /** (obs_dim) variance of the observation, ≥ 0. */
  var: Float64Array;
  /** Added to the variance under the square root, ≥ 0. */
  epsilon: number;
  /** Bound of the normalised value, > 0. */
  clip: number;
}

/** ONNX operator set the graphs use, and the IR version that goes with it. */
export const POLICY_OPSET = 13;
const IR_VERSION = 7;

/** What {@linkcode policyOnnx} exports. */
export interface PolicyToExport {
  /** The checkpoint the policy came from (doc strings, metadata). */
  source: string;
  /**
   * The delta head (its mean; the value head is not exported), as `modelFromCheckpoint`
   * builds it: holding the stored weights (no input or value scale).
   */
  model: ActorCritic;
  /** The base planner `eval` would use: MLP (in the graph), the env's own (an input), or zero. */
  planner: BasePlanner;
  /** The MLP planner's file, when `planner` is one (metadata). */
  plannerFile: string | null;
  /** Bound on |delta|. */
  deltaClip: number;
  /** The checkpoint's running normaliser (`obs_rms`), or null. */
  obsRms: ObsNormalizerStats | null;
  /** What the observation holds, in the env's words (the doc string of input `z`). */
  observationDoc: string;
  /** More `metadata_props` (e.g. env name, episode). */
  metadata?: Record<string, string>;
}

/** How {@linkcode policyOnnx} writes the graph. */
export interface PolicyOnnxOptions {
  /**
   * Element type of inputs, outputs and weights (default float64: the graph computes
   * what this program computes; float32 differs by its rounding).
   */
  dtype?: "float32" | "float64";
  /** Only the delta head: z -> clipped mean delta (default false). */
  deltaOnly?: boolean;
  /** `producer_version` (the program's version). */
  producerVersion?: string;
}

/** Names of the graph's inputs and outputs. */
export const POLICY_IO = Object.freeze({
  observation: "z",
  sftWaypoints: "sft_waypoints",
  finalWaypoints: "final_waypoints",
  finalActions: "final_actions",
  delta: "delta",
});

/**
 * The ONNX model of `policy` (see the module doc for the graphs). A planner with no
 * graph form (not the project's MLP, built-in or zero planner) is refused with a
 * {@linkcode UserError}.
 *
 * @example
 * ```ts ignore
 * const bytes = encodeOnnxModel(policyOnnx(policy, { dtype: "float32" }));
 * ```
 */
export function policyOnnx(policy: PolicyToExport, opts: PolicyOnnxOptions = {}): OnnxModel {
  const dtype = opts.dtype ?? "float64";
  const { model, deltaClip } = policy;
  if (model.inputScale !== null || model.valueScale !== 1) {
    throw new RangeError(
      "policyOnnx: the model must hold the stored weights (no input or value scale)",
    );
  }
  const g = new GraphBuilder(dtype);
  const io = POLICY_IO;
  const base = opts.deltaOnly ? { kind: "none" as const } : baseOf(policy.planner, policy.source);
  const batch = "batch";
  const actionShape = [...model.actionShape];
  const clipText = `±${deltaClip}`;

  const z = g.input({
    name: io.observation,
    dtype,
    shape: [batch, model.inDim],
    docString: `${policy.observationDoc}; raw, as the env gives it${
      policy.obsRms ? " (the graph applies the checkpoint's obs_rms for the delta head)" : ""
    }`,
  });

  const x = policy.obsRms ? normaliserNodes(g, z, policy.obsRms) : z;
  const clipped = deltaHeadNodes(g, x, { model, deltaClip });
  const shaped = (name: string) => g.reshape(clipped, actionShape, name);

  const { output, about } = outputNodes(g, base, {
    z,
    shaped,
    batch,
    actionShape,
    clipText,
    plannerFile: policy.plannerFile,
    dtype,
  });

  const docString = [
    `delta-waypoint policy from ${policy.source}: ${about}.`,
    `delta_head: Linear(${model.inDim}, ${model.hidden}) ReLU Linear(${model.hidden}, ${model.hidden}) ReLU Linear(${model.hidden}, ${model.actionDim}), its mean action (no sampling).`,
    policy.obsRms
      ? `The delta head sees clamp((z - obs_rms.mean) / sqrt(obs_rms.var + obs_rms.epsilon), ±${policy.obsRms.clip}).`
      : "",
  ].filter((s) => s).join(" ");
  return {
    irVersion: IR_VERSION,
    opsetVersion: POLICY_OPSET,
    producerName: "delta-waypoint",
    producerVersion: opts.producerVersion ?? "",
    docString,
    graph: {
      name: opts.deltaOnly ? "delta_head" : "delta_waypoint_policy",
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: g.inputs,
      outputs: [output],
      docString,
    },
    metadata: {
      checkpoint: policy.source,
      delta_clip: String(deltaClip),
      action_shape: JSON.stringify(actionShape),
      obs_dim: String(model.inDim),
      obs_rms: policy.obsRms ? "applied in the graph" : "none",
      ...(base.kind === "mlp" && policy.plannerFile ? { sft_model: policy.plannerFile } : {}),
      ...policy.metadata,
    },
  };
}

// The graph's output after the delta head, by what the base planner is: none (the delta
// alone), the zero action, an input the caller fills (the built-in planner), or the MLP.
function outputNodes(
  g: GraphBuilder,
  base: ReturnType<typeof baseOf> | { kind: "none" },
  ctx: {
    z: string;
    shaped: (name: string) => string;
    batch: string;
    actionShape: number[];
    clipText: string;
    plannerFile: string | null | undefined;
    dtype: "float32" | "float64";
  },
): { output: OnnxValueInfo; about: string } {
  const { z, shaped, batch, actionShape, clipText } = ctx;
  const io = POLICY_IO;
  const outputOf = (name: string, docString: string): OnnxValueInfo => ({
    name,
    dtype: ctx.dtype,
    shape: [batch, ...actionShape],
    docString,
  });
  switch (base.kind) {
    case "none": {
      const output = outputOf(
        io.delta,
        `the delta head's mean action clipped to ${clipText}: the correction added to the base planner's output`,
      );
      shaped(output.name);
      return { output, about: `z -> ${io.delta} = clip(delta_head(z), ${clipText})` };
    }
    case "zero": {
      const output = outputOf(
        io.finalActions,
        `the action: clip(delta_head(z), ${clipText}) (the run refined the zero action)`,
      );
      shaped(output.name);
      return { output, about: `z -> ${io.finalActions} = clip(delta_head(z), ${clipText})` };
    }
    case "input": {
      const sft = g.input({
        name: io.sftWaypoints,
        dtype: ctx.dtype,
        shape: [batch, ...actionShape],
        docString:
          "the SFT planner's plan for z: H waypoints (x forward, y left) in the car frame, m",
      });
      const output = outputOf(
        io.finalWaypoints,
        `the plan to drive: sft_waypoints + clip(delta, ${clipText}), H waypoints (x, y) in the car frame, m`,
      );
      g.node("Add", [sft, shaped("delta")], output.name);
      return {
        output,
        about:
          `z, ${io.sftWaypoints} -> ${io.finalWaypoints} = ${io.sftWaypoints} + clip(delta_head(z), ${clipText})`,
      };
    }
    case "mlp": {
      const sft = plannerNodes(g, z, { planner: base.planner, actionShape });
      const output = outputOf(
        io.finalWaypoints,
        `the plan to drive: sft_waypoints + clip(delta, ${clipText}), H waypoints (x, y) in the car frame, m (sft_waypoints: the MLP planner of ${
          ctx.plannerFile ?? "the SFT file"
        })`,
      );
      g.node("Add", [sft, shaped("delta")], output.name);
      return {
        output,
        about: `z -> ${io.finalWaypoints} = sft_planner(z) + clip(delta_head(z), ${clipText})`,
      };
    }
  }
}

// (B, d) -> (B, d): clamp((z - mean) / sqrt(var + epsilon), ±clip)
function normaliserNodes(g: GraphBuilder, z: string, rms: ObsNormalizerStats): string {
  const d = rms.mean.length;
  const mean = g.constant("obs_rms.mean", [d], rms.mean);
  const variance = g.constant("obs_rms.var", [d], rms.var);
  const epsilon = g.constant("obs_rms.epsilon", [], [rms.epsilon]);
  const centred = g.node("Sub", [z, mean], "obs_rms.centred");
  const varEps = g.node("Add", [variance, epsilon], "obs_rms.var_eps");
  const spread = g.node("Sqrt", [varEps], "obs_rms.std");
  const scaled = g.node("Div", [centred, spread], "obs_rms.scaled");
  return g.clip(scaled, rms.clip, "obs_rms.normalised");
}

// (B, in) -> (B, hidden) -> (B, hidden) -> (B, A): the delta head's mean, clipped
function deltaHeadNodes(
  g: GraphBuilder,
  x: string,
  opts: { model: ActorCritic; deltaClip: number },
): string {
  let h = x;
  for (const [i, relu] of [[0, true], [2, true], [4, false]] as const) {
    h = g.linear(h, {
      ...linearParams(opts.model.delta, `net.${i}`),
      output: `delta_head.net.${i}`,
    });
    if (relu) h = g.node("Relu", [h], `delta_head.net.${i + 1}`);
  }
  return g.clip(h, opts.deltaClip, "delta_head.clipped_mean");
}

// (B, obs) -> (B, H, 2): the MLP planner on the first 1 + 2H numbers of z (all of them
// on driving; on traffic the route part, not the vehicles)
function plannerNodes(
  g: GraphBuilder,
  z: string,
  opts: { planner: MlpPlanner; actionShape: number[] },
): string {
  const { planner } = opts;
  const int64 = (v: number) => new BigInt64Array([BigInt(v)]);
  const input = g.node("Slice", [
    z,
    g.constant("sft_planner.z_start", [1], int64(0), "int64"),
    g.constant("sft_planner.z_end", [1], int64(planner.obsDim), "int64"),
    g.constant("sft_planner.z_axis", [1], int64(1), "int64"),
  ], "sft_planner.z");
  const layer = (i: number, from: string) =>
    g.linear(from, { ...linearParams(planner.params, String(i)), output: `sft_planner.${i}` });
  const plans = layer(2, g.node("Relu", [layer(0, input)], "sft_planner.1"));
  return g.reshape(plans, opts.actionShape, "sft_waypoints");
}

/** Where a graph's base plan comes from. */
type Base =
  | { kind: "none" }
  | { kind: "zero" }
  | { kind: "input" }
  | { kind: "mlp"; planner: MlpPlanner };

// The base of `planner`, from its spec: zero, an MLP (alone or wrapped by the env: it reads
// the first numbers of z), an env's own planner (its plans are an input), or none.
function baseOf(planner: BasePlanner, source: string): Base {
  const spec = plannerSpec(planner);
  switch (spec?.kind) {
    case "zero":
      return { kind: "zero" };
    case "entry":
      return { kind: "input" };
    case "mlp":
      return { kind: "mlp", planner: planner as MlpPlanner };
    case "file":
      return { kind: "mlp", planner: mlpFromSpec(spec.inner) };
    default:
      throw new UserError(
        `${source}: the base planner (${planner.constructor.name}) has no ONNX form; export --delta-only and add its plans yourself`,
      );
  }
}

// The Linear `layer` of `set`: W [out, in] (as torch stores it) and b [out].
function linearParams(
  set: ParamSet,
  layer: string,
): { weight: OnnxTensorData; bias: OnnxTensorData } {
  const part = (name: string) => {
    const spec = set.specs.find((s) => s.name === `${layer}.${name}`)!;
    return { dims: [...spec.shape], data: set.view(spec.name) };
  };
  return { weight: part("weight"), bias: part("bias") };
}
