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
  HELDOUT_SEED_BASE,
  TRAFFIC_ENV_DEFAULTS,
  TrafficExpertPlanner,
  validateEnvConfig,
  validateTrafficConfig,
  vecEnvFactory,
} from "../env/mod.ts";
import type { EnvConfig, EnvName, EpisodeMetric, TrafficConfig, VecEnv } from "../env/mod.ts";
import type { ActorCritic } from "../nn/mod.ts";
import { applyConfigFile, outputTarget, readPt, writeFileAtomic } from "../io/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner, loadSftPlanner, ZeroPlanner } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import {
  checkpointEnvConfig,
  checkpointEnvName,
  checkpointPpoConfig,
  checkpointTrafficConfig,
  evalDocument,
  evaluatePolicy,
  modelFromCheckpoint,
  parseTrainerCheckpoint,
  trafficBasePlanner,
} from "../run/mod.ts";
import type { EvalDocument, LoadedCheckpoint, ScenarioSet } from "../run/mod.ts";
import { expandSeedPolicies, seedMeanDocs } from "../sweep/mod.ts";
import type { SeedGroup } from "../sweep/mod.ts";
import { parseFlags, parseNumber } from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { ENV_CHOICE_HELP, ENV_CHOICE_OPTION, envChoice } from "./_env_choice.ts";
import { applyTrafficFlags, TRAFFIC_FLAG_HELP, TRAFFIC_FLAG_OPTIONS } from "./_traffic_flags.ts";
import { EVAL_SCENARIOS_HELP, evalScenarios, SCENARIOS_OPTION } from "./_scenario_flags.ts";
import { formatTable } from "./_eval_table.ts";

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
  const asked = evalFlags(values);
  // Checkpoints first: the environment they were trained in is the default one.
  const checkpoints = new Map<string, LoadedCheckpoint>();
  for (const name of asked.names) {
    if (name === "sft" || name === "expert") continue;
    checkpoints.set(name, parseTrainerCheckpoint(await readPt(name), name));
  }
  const episodes = await evalEpisodes(values, { ...asked, checkpoints });
  const specs = await policySpecs(asked.names, { values, checkpoints, episodes });
  const { docs, metrics } = rollOut(specs, { episodes, stochastic: values.stochastic === true });
  const payload = docs.length === 1 ? docs[0] : docs;
  if (asked.output !== null) {
    await writeFileAtomic(asked.output, JSON.stringify(payload, null, 2) + "\n");
  }
  if (values.json) console.log(JSON.stringify(payload, null, 2));
  else {
    const { firstSeed, count, set } = episodes;
    console.log(
      formatTable([...docs, ...seedMeanDocs(docs, asked.groups)], {
        ...{ firstSeed, count, metrics },
        played: set ? `the scenario files of ${set.dir}` : undefined,
      }),
    );
  }
  return 0;
}

type Values = Record<string, unknown>;

// What the flags ask for besides the environment: the policies (a multi-seed folder
// stands for each of its seeds' final.pt), the seeds, and the --output file.
function evalFlags(values: Values): {
  names: string[];
  groups: SeedGroup[];
  count: number;
  firstSeed: number;
  output: string | null;
} {
  const { names, groups } = expandSeedPolicies((values.policy as string[] | undefined) ?? ["sft"]);
  const count = typeof values.episodes === "string"
    ? parseNumber(values.episodes, { flag: "--episodes", kind: "int", lo: 1, hi: 100_000 })
    : 100;
  const firstSeed = typeof values.seed === "string"
    ? parseNumber(values.seed, { flag: "--seed", kind: "int", lo: 0, hi: 2 ** 32 - count })
    : HELDOUT_SEED_BASE;
  // only a regular file is replaced, and only with --overwrite
  const output = typeof values.output === "string"
    ? outputTarget(values.output, { flag: "--output", overwrite: values.overwrite === true })
    : null;
  return { names, groups, count, firstSeed, output };
}

// The episodes every policy plays: the env (the checkpoints', then --config and the
// flags), its factory, and the seeds, or the files of a scenario set.
interface Episodes {
  envName: EnvName;
  env: EnvConfig;
  traffic: TrafficConfig | undefined;
  /** driving: undefined (the default env of `env`); any other env: its factory */
  makeEnv: ((numEnvs: number) => VecEnv) | undefined;
  /** one env of `makeEnv`, or null for driving */
  probe: VecEnv | null;
  obsDim: number;
  firstSeed: number;
  count: number;
  set: ScenarioSet | null;
}

async function evalEpisodes(values: Values, opts: {
  names: string[];
  checkpoints: Map<string, LoadedCheckpoint>;
  firstSeed: number;
  count: number;
}): Promise<Episodes> {
  const { checkpoints } = opts;
  const { envName, env, traffic } = evalEnv(values, checkpoints);
  // a scenario set: episode k plays its k-th file
  const extras = new Map([...checkpoints].map(([name, ckpt]) => [name, ckpt.extra]));
  const set = await evalScenarios(values, { envName, checkpoints: extras });
  const [firstSeed, count] = set ? [0, set.scenarios.length] : [opts.firstSeed, opts.count];
  // driving: the default env of `env`; traffic: its env over the SFT planner on z; any
  // other: its own, refining the zero action
  const makeEnv = envName === "driving"
    ? undefined
    : vecEnvFactory(envName, env, { ...(traffic ? { traffic } : {}), scenarios: set?.scenarios });
  const probe = makeEnv ? makeEnv(1) : null;
  if (
    probe && envName !== "traffic" && (sftFlagOf(values) !== null || opts.names.includes("expert"))
  ) {
    throw new UserError(`--env ${envName}: --sft-model and the expert are for the driving env`);
  }
  const obsDim = probe ? probe.obsDim : 1 + 2 * env.horizon_steps;
  return { envName, env, traffic, makeEnv, probe, obsDim, firstSeed, count, set };
}

// The env the policies are evaluated in: the one the checkpoints were trained in (they
// must agree), else the defaults of --env; then --config and the flags, checked.
function evalEnv(
  values: Values,
  checkpoints: Map<string, LoadedCheckpoint>,
): { envName: EnvName; env: EnvConfig; traffic: TrafficConfig | undefined } {
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
  return { envName, env, traffic };
}

// One policy to evaluate: its names in the document, its base planner and delta head.
interface PolicySpec {
  name: string;
  checkpoint: string | null;
  sftModel: string | null;
  runId: string;
  planner: BasePlanner | WaypointPlanner;
  model: ActorCritic | null;
  deltaClip: number;
}

// Each --policy's planner and delta head, in the order given.
async function policySpecs(names: string[], opts: {
  values: Values;
  checkpoints: Map<string, LoadedCheckpoint>;
  episodes: Episodes;
}): Promise<PolicySpec[]> {
  const { env, traffic } = opts.episodes;
  const sftFlag = sftFlagOf(opts.values);
  const plannerFor = basePlanners(opts.episodes);
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
      const ckpt = opts.checkpoints.get(name)!;
      const recorded = typeof ckpt.extra.sft_model === "string" ? ckpt.extra.sft_model : null;
      // the recorded configuration, checked: a delta_clip of -5 or NaN is refused
      const clip = checkpointPpoConfig(ckpt, checkpointEnvConfig(ckpt)).delta_clip;
      const { probe, obsDim } = opts.episodes;
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
  return specs;
}

// The base planner of an SFT planner file (null: the built-in one), each file loaded
// once: on traffic the SFT planner on z, on another env but driving the zero action.
function basePlanners(
  episodes: Episodes,
): (path: string | null) => Promise<BasePlanner | WaypointPlanner> {
  const { env, probe, obsDim } = episodes;
  const expect = { horizon: env.horizon_steps, obsDim };
  const planners = new Map<string, BasePlanner | WaypointPlanner>();
  return async (path) => {
    if (probe && episodes.envName === "traffic") {
      return await trafficBasePlanner(env, { sftModel: path, obsDim });
    }
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
}

// Every policy on the same episodes: one document each, and the env's metrics.
function rollOut(
  specs: PolicySpec[],
  opts: { episodes: Episodes; stochastic: boolean },
): { docs: EvalDocument[]; metrics: readonly EpisodeMetric[] } {
  const { env, makeEnv, firstSeed, count, set } = opts.episodes;
  let metrics: readonly EpisodeMetric[] = [];
  const docs = specs.map((spec, i) => {
    const stochastic = opts.stochastic && spec.model !== null;
    const result = evaluatePolicy({
      env,
      makeEnv,
      planner: spec.planner,
      model: spec.model,
      deltaClip: spec.deltaClip,
      firstSeed,
      count,
      sampleRng: stochastic ? new Rng(firstSeed + 7919 * i) : undefined,
    });
    metrics = result.metrics;
    if (set) result.scenarios.forEach((r, k) => (r.scenario_id = set.scenarios[k].id));
    const policy = {
      name: spec.name,
      ...(spec.checkpoint !== null ? { checkpoint: spec.checkpoint } : {}),
      ...(spec.sftModel !== null ? { sft_model: spec.sftModel } : {}),
    };
    return evalDocument(result, { runId: spec.runId, policy, firstSeed, count, stochastic });
  });
  return { docs, metrics };
}

// A checkpoint's run: the folder that holds it (or holds its checkpoints/ folder), and the file.
function runIdOf(path: string): string {
  const dir = dirname(path);
  const run = basename(dir) === "checkpoints" ? basename(dirname(dir)) : basename(dir);
  return `${run}/${basename(path, ".pt")}`;
}

function sftFlagOf(values: Record<string, unknown>): string | null {
  return typeof values["sft-model"] === "string" ? values["sft-model"] : null;
}
