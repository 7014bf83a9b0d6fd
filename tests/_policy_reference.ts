/**
 * The project's own forward pass of a checkpoint's policy, for the tests that compare
 * the Python loader and the ONNX export with it: the checkpoint read and checked as
 * `eval` reads it, the base planner `eval` builds for it, `ActorCritic.actMean` and
 * `values` (which apply the checkpoint's `obs_rms` through the trainer's own
 * `ObsNormalizer`), and `sft + clip(delta)`. Also the tiny runs those tests train, observation
 * batches (visited states and wider ones that make the clip bite), and a copy of a
 * checkpoint with an `obs_rms` key, written with the project's `.pt` writer.
 */

import { join } from "node:path";
import { builtinEnv, ZPrefixPlanner } from "../src/env/mod.ts";
import type { EnvConfig, VecEnv } from "../src/env/mod.ts";
import { PtDict, readPt, Tensor, writePt } from "../src/io/mod.ts";
import { Rng } from "../src/math/mod.ts";
import type { ActorCritic, ObsRms } from "../src/nn/mod.ts";
import {
  checkpointEnvName,
  checkpointObsRms,
  checkpointPpoConfig,
  checkpointSettings,
  modelFromCheckpoint,
  parseTrainerCheckpoint,
} from "../src/run/mod.ts";
import { clipDelta, loadSftPlanner, ZeroPlanner } from "../src/sft/mod.ts";
import { BuiltinSftPlanner, TRAFFIC_SFT_OPTIONS } from "../src/env/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../src/sft/mod.ts";
import { runCli } from "./_helpers.ts";

/** A checkpoint's policy as `eval` builds it. */
export interface ReferencePolicy {
  envName: string;
  env: EnvConfig;
  /** What the heads take (the env's observation). */
  obsDim: number;
  /** Numbers per action (2H for waypoints). */
  actionDim: number;
  /** Whether the action is a plan of waypoints (driving, traffic). */
  waypoints: boolean;
  deltaClip: number;
  model: ActorCritic;
  /** The base planner: the SFT planner (built-in or the file's MLP), or the zero action. */
  planner: BasePlanner | WaypointPlanner;
  /** Whether `planner` is an MLP planner file's (else built-in or zero). */
  mlpPlanner: boolean;
  /** The checkpoint's `obs_rms`, as the trainer reads it (`model.obsNorm` applies it). */
  obsRms: ObsRms | null;
  /** Makes the env of the checkpoint (for observations). */
  makeEnv: (n: number) => VecEnv;
}

/** What the policy computes for a batch of rows. */
export interface ReferenceOutputs {
  /** (rows, actionDim) the base planner's plans. */
  base: Float64Array;
  /** (rows, actionDim) the delta head's mean, clipped to ±deltaClip. */
  delta: Float64Array;
  /** (rows) the value head. */
  value: Float64Array;
  /** (rows, actionDim) base + clipped delta: what the env receives. */
  final: Float64Array;
}

/**
 * Reads the checkpoint at `path` as `eval --policy path [--sft-model sftModel]` does
 * (the SFT planner it records when `sftModel` is undefined; null: the built-in one).
 */
export async function referencePolicy(
  path: string,
  opts: { sftModel?: string | null } = {},
): Promise<ReferencePolicy> {
  const ckpt = parseTrainerCheckpoint(await readPt(path), path);
  const envName = checkpointEnvName(ckpt);
  const definition = builtinEnv(envName)!;
  const settings = checkpointSettings(ckpt, definition);
  const env = settings.env as unknown as EnvConfig;
  const deltaClip = checkpointPpoConfig(ckpt, { definition, settings }).delta_clip;
  const makeEnv = (n: number) => definition.make(settings, n);
  const probe = makeEnv(1);
  const recorded = typeof ckpt.extra.sft_model === "string" ? ckpt.extra.sft_model : null;
  const sftModel = opts.sftModel === undefined ? recorded : opts.sftModel;
  const z = { horizon: env.horizon_steps, obsDim: 1 + 2 * env.horizon_steps };
  let planner: BasePlanner | WaypointPlanner;
  if (envName === "driving") {
    planner = sftModel === null ? new BuiltinSftPlanner(env) : await loadSftPlanner(sftModel, z);
  } else if (envName === "traffic") {
    const inner = sftModel === null
      ? new BuiltinSftPlanner(env, TRAFFIC_SFT_OPTIONS)
      : await loadSftPlanner(sftModel, z);
    planner = new ZPrefixPlanner(inner, { obsDim: probe.obsDim });
  } else {
    planner = new ZeroPlanner(probe);
  }
  const model = modelFromCheckpoint(ckpt, probe.obsDim, {
    actionShape: probe.actionShape ?? [probe.actionDim],
  });
  return {
    envName,
    env,
    obsDim: probe.obsDim,
    actionDim: probe.actionDim,
    waypoints: envName !== "mountain_car",
    deltaClip,
    model,
    planner,
    mlpPlanner: sftModel !== null && envName !== "mountain_car",
    obsRms: checkpointObsRms(ckpt, probe.obsDim),
    makeEnv,
  };
}

/**
 * The policy on `rows` observations (rows, obsDim), as `eval` acts: the planner on the
 * observation, the delta head's mean (the model applies `obs_rms`, when the checkpoint
 * has one), clipped, added.
 */
export function referenceForward(
  policy: ReferencePolicy,
  obs: Float64Array,
  rows: number,
): ReferenceOutputs {
  const { actionDim: a, deltaClip } = policy;
  const base = new Float64Array(rows * a);
  const delta = new Float64Array(rows * a);
  const value = new Float64Array(rows);
  policy.planner.plan(obs, rows, base);
  policy.model.actMean(obs, rows, delta);
  policy.model.values(obs, rows, value);
  for (let j = 0; j < delta.length; j++) delta[j] = clipDelta(delta[j], deltaClip);
  const final = base.map((b, j) => b + delta[j]);
  return { base, delta, value, final };
}

/**
 * `rows` observations of the policy's env: the first half states the env visits (8 envs
 * from seeds `seed`.., driven by the base planner), the rest those scaled by 0.5 to 1.5
 * and shifted by up to ±1 per feature. Rounded to float32 (what an ONNX float32 input
 * holds), so that every consumer sees the same numbers.
 */
export function sampleObservations(
  policy: ReferencePolicy,
  opts: { rows: number; seed: number },
): Float64Array {
  const { rows, seed } = opts;
  const d = policy.obsDim, n = 8;
  const venv = policy.makeEnv(n);
  venv.reset(Array.from({ length: n }, (_, i) => seed + i));
  const obs = new Float32Array(rows * d);
  const visited = Math.ceil(rows / 2);
  const plans = new Float64Array(n * policy.actionDim);
  for (let r = 0; r < visited; r += n) {
    for (let i = 0; i < n && r + i < visited; i++) {
      obs.set(venv.obs.subarray(i * d, (i + 1) * d), (r + i) * d);
    }
    policy.planner.plan(venv.obs, n, plans);
    venv.step(plans); // finished episodes restart
  }
  const rng = new Rng(seed);
  for (let r = visited; r < rows; r++) {
    const from = (r - visited) % visited;
    const scale = 0.5 + rng.uniform();
    for (let j = 0; j < d; j++) obs[r * d + j] = obs[from * d + j] * scale + rng.range(-1, 1);
  }
  return Float64Array.from(obs);
}

/**
 * The median |mean delta| of the policy on these rows: a `delta_clip` that clips about
 * half of the entries (the tiny runs' deltas stay far inside their own clip).
 */
export function biteClip(policy: ReferencePolicy, obs: Float64Array, rows: number): number {
  const mean = new Float64Array(rows * policy.actionDim);
  policy.model.actMean(obs, rows, mean);
  const sorted = Array.from(mean, Math.abs).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A normaliser of `obsDim` features with made-up statistics (clip 5, so it clamps). */
export function madeUpObsRms(obsDim: number, seed: number): ObsRms {
  const rng = new Rng(seed);
  return {
    mean: Float64Array.from({ length: obsDim }, () => 4 * rng.uniform() - 2),
    var: Float64Array.from({ length: obsDim }, () => 0.5 + 30 * rng.uniform()),
    count: 12345,
    epsilon: 1e-8,
    clip: 5,
  };
}

/**
 * Copies the checkpoint `src` to `dst` with `obs_rms` added and/or `cfg.delta_clip`
 * replaced, written by the project's own `.pt` writer.
 */
export async function editCheckpoint(
  src: string,
  dst: string,
  edits: { obsRms?: ObsRms; deltaClip?: number },
): Promise<void> {
  const root = await readPt(src) as PtDict;
  const rms = edits.obsRms;
  if (rms) {
    const d = rms.mean.length;
    root.set(
      "obs_rms",
      new PtDict([
        ["mean", new Tensor("float64", [d], Float64Array.from(rms.mean))],
        ["var", new Tensor("float64", [d], Float64Array.from(rms.var))],
        ["count", rms.count],
        ["epsilon", rms.epsilon],
        ["clip", rms.clip],
      ]),
    );
  }
  if (edits.deltaClip !== undefined) (root.get("cfg") as PtDict).set("delta_clip", edits.deltaClip);
  await writePt(dst, root);
}

/** The tiny runs the tests export and load: each case's checkpoint and SFT planner file. */
export interface TinyRun {
  name: string;
  checkpoint: string;
  /** The MLP planner file it refined, or null (built-in planner, or the zero action). */
  sftModel: string | null;
}

/** The flags of every tiny training run. */
export const TINY_TRAIN_FLAGS = [
  "--episodes",
  "20",
  "--eval-interval",
  "10",
  "--save-interval",
  "10",
  "--heldout-episodes",
  "2",
  "--eval-episodes",
  "2",
  "--quiet",
];

const TINY_SFT_RUN = ["--episodes", "10", "--epochs", "2", "--heldout-episodes", "2", "--quiet"];

/**
 * Trains, through the CLI, in `dir`: SFT planners for driving and traffic, then runs on
 * the built-in planner, on the driving MLP planner, on traffic (built-in and MLP
 * planner) and on mountain_car. Throws with the CLI's stderr when a command fails.
 */
export async function trainTinyRuns(dir: string): Promise<TinyRun[]> {
  const cli = async (args: string[]) => {
    const out = await runCli(args);
    if (out.code !== 0) throw new Error(`${args.join(" ")}: exit ${out.code}: ${out.stderr}`);
  };
  const sft = join(dir, "sft", "model.pt"), sftTraffic = join(dir, "sft_traffic", "model.pt");
  await cli(["sft", ...TINY_SFT_RUN, "--out-dir", join(dir, "sft")]);
  await cli(["sft", ...TINY_SFT_RUN, "--env", "traffic", "--out-dir", join(dir, "sft_traffic")]);
  const runs: [string, string[], string | null][] = [
    ["builtin", [], null],
    ["mlp", ["--sft-model", sft], sft],
    // a warm start of one small round, the traffic default's path
    [
      "traffic",
      ["--env", "traffic", "--warm-start-rounds", "1", "--warm-start-episodes", "10"],
      null,
    ],
    [
      "traffic_mlp",
      ["--env", "traffic", "--warm-start-rounds", "0", "--sft-model", sftTraffic],
      sftTraffic,
    ],
    ["mountain_car", ["--env", "mountain_car"], null],
  ];
  const out: TinyRun[] = [];
  for (const [name, flags, sftModel] of runs) {
    await cli(["train", ...TINY_TRAIN_FLAGS, ...flags, "--out-dir", join(dir, name)]);
    out.push({ name, checkpoint: join(dir, name, "final.pt"), sftModel });
  }
  return out;
}
