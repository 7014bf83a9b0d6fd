/**
 * `eval`: roll out one or more policies on the same seeded episodes and report them side
 * by side: the SFT planner alone, the expert, or SFT + the delta head of a checkpoint.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import { Rng } from "../math/mod.ts";
import {
  DEFAULT_ENV_CONFIG,
  DEFAULT_TRAFFIC_CONFIG,
  defaultEpisodeCap,
  DRIVING_METRICS,
  HELDOUT_SEED_BASE,
  TRAFFIC_ENV_DEFAULTS,
  TrafficExpertPlanner,
  validateEnvConfig,
  validateTrafficConfig,
  vecEnvFactory,
} from "../env/mod.ts";
import type { EnvConfig, EpisodeMetric, TrafficConfig } from "../env/mod.ts";
import type { ActorCritic } from "../nn/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner, ZeroPlanner } from "../sft/mod.ts";
import { evaluatePolicy } from "../run/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import type { EvalResult, EvalSummary } from "../run/mod.ts";
import {
  checkpointEnvConfig,
  checkpointEnvName,
  checkpointPpoConfig,
  checkpointTrafficConfig,
  modelFromCheckpoint,
  parseTrainerCheckpoint,
} from "../run/mod.ts";
import type { LoadedCheckpoint } from "../run/mod.ts";
import { readPt } from "../io/mod.ts";
import { loadSftPlanner } from "../sft/mod.ts";
import { writeFileAtomic } from "../io/mod.ts";
import { applyConfigFile, parseFlags, parseNumber } from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { ENV_CHOICE_HELP, ENV_CHOICE_OPTION, envChoice } from "./_env_choice.ts";
import { expandSeedPolicies, seedMeanDocs } from "./_seeds_eval.ts";
import {
  applyTrafficFlags,
  TRAFFIC_FLAG_HELP,
  TRAFFIC_FLAG_OPTIONS,
  trafficBasePlanner,
} from "./_traffic_flags.ts";
import { EVAL_SCENARIOS_HELP, evalScenarios, SCENARIOS_OPTION } from "./_scenario_runs.ts";

/** One evaluated policy, as written by `--output`. */
export interface EvalDocument {
  /** "sft", "expert", or "<run folder>/<checkpoint name>" for a `.pt` policy. */
  run_id: string;
  /** Task family tag of the evaluation schema; always "rl". */
  domain: "rl";
  /**
   * `name`: the `--policy` value as given ("sft", "expert" or a checkpoint path).
   * `checkpoint`: the file the policy's weights came from: the checkpoint for a `.pt`
   * policy, the `--sft-model` file for `sft` (absent for the built-in planner and the
   * expert, which have none). `sft_model`: for a `.pt` policy, the SFT planner file it
   * was refined from (absent: the built-in planner).
   */
  policy: { name: string; checkpoint?: string; sft_model?: string };
  /**
   * Seeds `first_seed .. first_seed + count - 1`; `stochastic` when the delta was sampled
   * rather than taken as the policy's mean (false for policies without a delta head).
   */
  episodes: { first_seed: number; count: number; stochastic: boolean };
  /** One record per episode, in seed order. */
  scenarios: EvalResult["scenarios"];
  /** Averages over `scenarios`. */
  summary: EvalSummary;
}

const OPTIONS = {
  policy: { type: "string", multiple: true },
  "sft-model": { type: "string" },
  episodes: { type: "string" },
  seed: { type: "string" },
  stochastic: { type: "boolean" },
  json: { type: "boolean" },
  output: { type: "string" },
  overwrite: { type: "boolean" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...ENV_FLAG_OPTIONS,
  ...ENV_CHOICE_OPTION,
  ...TRAFFIC_FLAG_OPTIONS,
  ...SCENARIOS_OPTION,
} as const;

/**
 * `eval --help`.
 *
 * @example
 * ```ts
 * console.log(evalHelp());
 * ```
 */
export function evalHelp(): string {
  return [
    "Usage: delta-waypoint eval --policy P [--policy P ...] [flags]",
    "",
    "Roll out policies on the same seeded episodes (seeds S..S+N-1) and report them side by side:",
    "success, return, steps, route completion, off-route, distance to goal, ADE/FDE of the plan",
    "against the expert plan, delta norm, comfort (peak |acceleration| and |jerk|).",
    "",
    "Policies:",
    "  sft          the SFT planner alone (built-in, or --sft-model)",
    "  expert       the expert planner (the exact route)",
    "  PATH.pt      SFT + the delta head of a training checkpoint (its mean action)",
    "  DIR          a multi-seed folder (train --seeds): each seed's final.pt, and their mean",
    "",
    "Flags:",
    "  --policy P             repeatable; default: sft",
    `  --episodes N           episodes per policy (default 100)`,
    `  --seed S               first seed (default ${HELDOUT_SEED_BASE}: training never uses seeds from there on)`,
    "  --sft-model PATH       SFT planner checkpoint (default: the one a .pt policy was trained on, else built-in)",
    "  --stochastic           sample the delta from the policy instead of taking its mean",
    "  --json                 print the JSON document(s) instead of a table",
    "  --output FILE          also write them to FILE (one document, or a list when comparing)",
    "  --overwrite            replace an existing --output file",
    '  --config FILE          JSON {"env": {...}} for the environment',
    ...ENV_FLAG_HELP,
    ENV_CHOICE_HELP,
    ...TRAFFIC_FLAG_HELP,
    EVAL_SCENARIOS_HELP,
    "  (on traffic, sft and the expert see the other vehicles' env; on mountain_car sft is the",
    "   zero action, with no expert and no --sft-model)",
    "  -h, --help             this help",
  ].join("\n");
}

interface PolicySpec {
  name: string;
  checkpoint: string | null;
  sftModel: string | null;
  runId: string;
  planner: BasePlanner | WaypointPlanner;
  model: ActorCritic | null;
  deltaClip: number;
}

/**
 * Runs `eval`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * await runEval(["--policy", "sft", "--policy", "out/run/final.pt", "--episodes", "50"]);
 * ```
 */
export async function runEval(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("eval", args, OPTIONS, true);
  if (values.help) {
    console.log(evalHelp());
    return 0;
  }
  if (positionals.length > 0) {
    throw new UserError(
      `eval: unexpected argument '${positionals[0]}' (policies go after --policy)`,
    );
  }
  // A multi-seed folder stands for each of its seeds' final.pt.
  const { names, groups } = expandSeedPolicies((values.policy as string[] | undefined) ?? ["sft"]);
  let count = typeof values.episodes === "string"
    ? parseNumber(values.episodes, { flag: "--episodes", kind: "int", lo: 1, hi: 1e6 })
    : 100;
  let firstSeed = typeof values.seed === "string"
    ? parseNumber(values.seed, { flag: "--seed", kind: "int", lo: 0, hi: 2 ** 32 - count })
    : HELDOUT_SEED_BASE;
  const output = typeof values.output === "string" ? values.output : null;
  if (output !== null && !values.overwrite) {
    try {
      Deno.statSync(output);
      throw new UserError(`--output ${output}: exists; pass --overwrite to replace it`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  // Checkpoints first: the environment they were trained in is the default one.
  const checkpoints = new Map<string, LoadedCheckpoint>();
  for (const name of names) {
    if (name === "sft" || name === "expert") continue;
    checkpoints.set(name, parseTrainerCheckpoint(await readPt(name), name));
  }
  const first = [...checkpoints.values()][0];
  const envName = envChoice(values, first ? checkpointEnvName(first) : "driving");
  for (const [name, ckpt] of checkpoints) {
    if (checkpointEnvName(ckpt) !== envName) {
      throw new UserError(
        `--policy ${name}: trained on ${checkpointEnvName(ckpt)}, evaluated on --env ${envName}`,
      );
    }
  }
  const isTraffic = envName === "traffic";
  const env: EnvConfig = first
    ? checkpointEnvConfig(first)
    : { ...(isTraffic ? TRAFFIC_ENV_DEFAULTS : DEFAULT_ENV_CONFIG) };
  if (!first && envName !== "driving") env.max_episode_steps = defaultEpisodeCap(envName);
  const traffic: TrafficConfig | undefined = !isTraffic
    ? undefined
    : first
    ? checkpointTrafficConfig(first)
    : { ...DEFAULT_TRAFFIC_CONFIG };
  if (typeof values.config === "string") {
    applyConfigFile(values.config, { env, ...(traffic ? { traffic } : {}) }, {
      ignore: ["out_dir", "sft_model", "ppo", "sft", "env_name"],
    });
  }
  applyEnvFlags(env, values);
  applyTrafficFlags(traffic, values);
  try {
    validateEnvConfig(env);
    if (traffic) validateTrafficConfig(traffic);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  // a scenario set: episode k plays its k-th file
  const extras = new Map([...checkpoints].map(([name, ckpt]) => [name, ckpt.extra]));
  const set = await evalScenarios(values, { envName, checkpoints: extras });
  if (set) [firstSeed, count] = [0, set.scenarios.length];
  // driving: the default env of `env`; traffic: its env over the SFT planner on z; any
  // other: its own, refining the zero action
  const makeEnv = envName === "driving"
    ? undefined
    : vecEnvFactory(envName, env, { ...(traffic ? { traffic } : {}), scenarios: set?.scenarios });
  const probe = makeEnv ? makeEnv(1) : null;
  if (probe && !isTraffic && (sftFlagOf(values) !== null || names.includes("expert"))) {
    throw new UserError(`--env ${envName}: --sft-model and the expert are for the driving env`);
  }
  const obsDim = probe ? probe.obsDim : 1 + 2 * env.horizon_steps;
  const expect = { horizon: env.horizon_steps, obsDim };
  const sftFlag = sftFlagOf(values);
  const planners = new Map<string, BasePlanner | WaypointPlanner>();
  const plannerFor = async (path: string | null): Promise<BasePlanner | WaypointPlanner> => {
    if (probe && isTraffic) return await trafficBasePlanner(env, { sftModel: path, obsDim });
    if (probe) return new ZeroPlanner(probe);
    const key = path ?? "";
    if (!planners.has(key)) {
      planners.set(
        key,
        path === null ? new BuiltinSftPlanner(env) : await loadSftPlanner(path, expect),
      );
    }
    return planners.get(key)!;
  };

  const specs: PolicySpec[] = [];
  for (const name of names) {
    if (name === "sft") {
      specs.push({
        name,
        checkpoint: sftFlag,
        sftModel: null,
        runId: "sft",
        planner: await plannerFor(sftFlag),
        model: null,
        deltaClip: 0,
      });
    } else if (name === "expert") {
      specs.push({
        name,
        checkpoint: null,
        sftModel: null,
        runId: "expert",
        planner: traffic ? new TrafficExpertPlanner(env, traffic) : new ExpertPlanner(env),
        model: null,
        deltaClip: 0,
      });
    } else {
      const ckpt = checkpoints.get(name)!;
      const recorded = typeof ckpt.extra.sft_model === "string" ? ckpt.extra.sft_model : null;
      // the recorded configuration, checked: a delta_clip of -5 or NaN is refused
      const clip = checkpointPpoConfig(ckpt, checkpointEnvConfig(ckpt)).delta_clip;
      specs.push({
        name,
        checkpoint: name,
        sftModel: sftFlag ?? recorded,
        runId: runIdOf(name),
        planner: await plannerFor(sftFlag ?? recorded),
        model: modelFromCheckpoint(
          ckpt,
          obsDim,
          probe ? { actionShape: probe.actionShape ?? [probe.actionDim] } : {},
        ),
        deltaClip: clip,
      });
    }
  }

  const stochastic = values.stochastic === true;
  let metrics: readonly EpisodeMetric[] = [];
  const docs: EvalDocument[] = specs.map((spec, i) => {
    const result = evaluatePolicy({
      env,
      makeEnv,
      planner: spec.planner,
      model: spec.model,
      deltaClip: spec.deltaClip,
      firstSeed,
      count,
      sampleRng: stochastic && spec.model ? new Rng(firstSeed + 7919 * i) : undefined,
    });
    metrics = result.metrics;
    if (set) result.scenarios.forEach((r, k) => (r.scenario_id = set.scenarios[k].id));
    return {
      run_id: spec.runId,
      domain: "rl",
      policy: {
        name: spec.name,
        ...(spec.checkpoint !== null ? { checkpoint: spec.checkpoint } : {}),
        ...(spec.sftModel !== null ? { sft_model: spec.sftModel } : {}),
      },
      episodes: { first_seed: firstSeed, count, stochastic: stochastic && spec.model !== null },
      scenarios: result.scenarios,
      summary: result.summary,
    };
  });
  const payload = docs.length === 1 ? docs[0] : docs;
  if (output !== null) await writeFileAtomic(output, JSON.stringify(payload, null, 2) + "\n");
  if (values.json) console.log(JSON.stringify(payload, null, 2));
  else {
    console.log(
      formatTable([...docs, ...seedMeanDocs(docs, groups)], {
        ...{ firstSeed, count, metrics },
        played: set ? `the scenario files of ${set.dir}` : undefined,
      }),
    );
  }
  return 0;
}

// A checkpoint's run: the folder that holds it (or holds its checkpoints/ folder), and the file.
function runIdOf(path: string): string {
  const dir = dirname(path);
  const run = basename(dir) === "checkpoints" ? basename(dirname(dir)) : basename(dir);
  return `${run}/${basename(path, ".pt")}`;
}

/**
 * The side-by-side table `eval` prints: one row per document, in the given order, with
 * a column per summarised metric of the env (`metrics`; the driving env's as before).
 *
 * @example
 * ```ts ignore
 * console.log(formatTable(docs, { firstSeed: HELDOUT_SEED_BASE, count: 100, metrics }));
 * ```
 */
export function formatTable(
  docs: EvalDocument[],
  opts: {
    firstSeed: number;
    count: number;
    metrics: readonly EpisodeMetric[];
    /** What the episodes play, said instead of their seeds (a scenario set). */
    played?: string;
  },
): string {
  const { firstSeed, count, metrics } = opts;
  const envCols: [string, (s: EvalSummary) => string][] = metrics === DRIVING_METRICS
    ? [
      ["ADE m", (s) => `${s.ade_mean.toFixed(3)}±${s.ade_std.toFixed(3)}`],
      ["FDE m", (s) => `${s.fde_mean.toFixed(3)}±${s.fde_std.toFixed(3)}`],
      ["off-route", (s) => `${(100 * s.offroad_rate).toFixed(1)}%`],
      ["completion", (s) => `${(100 * s.route_completion_mean).toFixed(1)}%`],
    ]
    : metrics.filter((m) => m.mean).map((m) => [m.label ?? m.name, (s) => s[m.mean!].toFixed(3)]);
  const cols: [string, (s: EvalSummary) => string][] = [
    ["success", (s) => `${(100 * s.success_rate).toFixed(1)}%`],
    ["return", (s) => s.return_mean.toFixed(2)],
    ["steps", (s) => s.steps_mean.toFixed(1)],
    ...envCols,
    [metrics === DRIVING_METRICS ? "|delta| m" : "|delta|", (s) => s.delta_norm_mean.toFixed(3)],
  ];
  const rows = docs.map((d) => [d.policy.name, ...cols.map(([, f]) => f(d.summary))]);
  const header = ["policy", ...cols.map(([h]) => h)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    `eval: ${count} episodes per policy, ${
      opts.played ?? `seeds ${firstSeed}..${firstSeed + count - 1}`
    }`,
    line(header),
    ...rows.map(line),
  ].join("\n");
}

function sftFlagOf(values: Record<string, unknown>): string | null {
  return typeof values["sft-model"] === "string" ? values["sft-model"] : null;
}
