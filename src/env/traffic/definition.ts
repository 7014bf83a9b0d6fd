/**
 * The traffic env's registry entry: two config sections (`env`, the driving part with
 * the traffic defaults, and `traffic`), its PPO defaults, the SFT planner on the
 * observation's `z` part and the traffic expert, the planner file it accepts, the
 * demonstrations `sft` clones (the route followed in the driving env), and its scenario
 * files.
 *
 * @module
 */

import type { EnvDefinition, EnvSettings, ScenarioSupport } from "../definition.ts";
import { withDefaults } from "../definition.ts";
import { ENV_CONFIG_TABLE, type EnvConfig, validateEnvConfig } from "../driving/config.ts";
import { BuiltinSftPlanner, ExpertPlanner } from "../driving/planners.ts";
import { routeMemory, zDoc } from "../driving/definition.ts";
import { Driving } from "../driving/vec_env.ts";
import type { WaypointPlanner } from "../contract.ts";
import {
  TRAFFIC_CONFIG_TABLE,
  TRAFFIC_ENV_DEFAULTS,
  type TrafficConfig,
  validateTrafficConfig,
} from "./config.ts";
import { TRAFFIC_SFT_OPTIONS, TrafficExpertPlanner, ZPrefixPlanner } from "./planners.ts";
import { Traffic, TRAFFIC_METRICS, trafficExtraObs } from "./traffic_env.ts";
import { generateScenario } from "./generate.ts";
import {
  checkScenario,
  MAX_SCENARIO_DEPTH,
  MAX_SCENARIO_FILE_BYTES,
  MAX_SCENARIO_STRING_BYTES,
} from "./scenario_files.ts";
import {
  MAX_EPISODE_DEPTH,
  MAX_EPISODE_FILE_BYTES,
  MAX_EPISODE_STRING_BYTES,
  scenarioFromEpisode,
} from "./from_episode.ts";
import { SCENARIO_FORMAT } from "./scenario.ts";
import { scenarioNumbers } from "./scenario.ts";
import type { Scenario } from "./scenario.ts";
import { scenarioDigest, scenarioFileName, scenarioJson } from "./scenario_write.ts";

/** The generator tag of seeded scenarios (`generateScenario`'s `metadata.generator`). */
const GENERATOR_TAG = "delta-waypoint traffic";

const envOf = (s: EnvSettings) => s.env as unknown as EnvConfig;
const trafficOf = (s: EnvSettings) => s.traffic as unknown as TrafficConfig;
const obsDimOf = (s: EnvSettings) => 1 + 2 * envOf(s).horizon_steps + trafficExtraObs(trafficOf(s));

/** The traffic env's scenario files (`docs/scenario_format.md`). */
const TRAFFIC_SCENARIOS: ScenarioSupport = Object.freeze({
  budget: {
    maxBytes: MAX_SCENARIO_FILE_BYTES,
    maxDepth: MAX_SCENARIO_DEPTH,
    maxStringBytes: MAX_SCENARIO_STRING_BYTES,
  },
  format: SCENARIO_FORMAT,
  check: checkScenario,
  make: (settings: EnvSettings, numEnvs: number, scenarios: readonly unknown[]) =>
    new Traffic(envOf(settings), numEnvs, {
      traffic: trafficOf(settings),
      scenarios: scenarios as Scenario[],
    }),
  digest: (s: unknown) => scenarioDigest(s as Scenario),
  id: (s: unknown) => (s as Scenario).id,
  generatedSeed: (s: unknown) => {
    const meta = (s as Scenario).metadata;
    return meta?.generator === GENERATOR_TAG && typeof meta.seed === "number" ? meta.seed : null;
  },
  generate: (seed: number, settings: EnvSettings) =>
    generateScenario(seed, { env: envOf(settings), traffic: trafficOf(settings) }),
  json: (s: unknown) => scenarioJson(s as Scenario),
  fileName: scenarioFileName,
  numbers: (s: unknown) => scenarioNumbers(s as Scenario),
  fromEpisodes: {
    budget: {
      maxBytes: MAX_EPISODE_FILE_BYTES,
      maxDepth: MAX_EPISODE_DEPTH,
      maxStringBytes: MAX_EPISODE_STRING_BYTES,
    },
    convert: scenarioFromEpisode,
  },
});

/**
 * `--env traffic`: the driving world with other vehicles, over the SFT planner blind to
 * them. Its PPO defaults: to stop the car the delta must pull the 4-target plan (10 m) in
 * to the car (the speed loop aims for sqrt(max_decel * reach)), and the expert's
 * corrections put a stop 2 m behind it (`expert_stop_behind`), so `delta_clip` is 12 m.
 * PPO alone finds braking and the way around a stopped vehicle slowly and by luck, and
 * drives the residual far from the SFT plan; so the delta head starts from the env's
 * expert's corrections of the SFT plan (10 DAgger rounds of 400 episodes, `warm_start_*`;
 * zero where nothing is in the way), the value head learns alone
 * for the first 800 PPO episodes, and an imitation term on the warm start's steps stays in
 * the loss (`warm_start_bc_coef` 1). PPO then refines with a small fixed spread (log_std
 * −1, no entropy bonus, `lr` 3e-4) for 4000 episodes in rollouts of 20 (about 20 s in
 * all). Every 400 episodes it is evaluated on 100 held-out episodes: at a collision rate
 * near 1%, one collision in 20 moves the mean return by about 16%. See docs/results.md
 * (Traffic).
 */
export const TRAFFIC_ENV: EnvDefinition = Object.freeze({
  id: "traffic",
  description: "the driving world with other vehicles and collisions (scenario files too)",
  sections: [
    {
      key: "env",
      title: "Traffic: the driving part (route, car, controller, rewards)",
      table: withDefaults(ENV_CONFIG_TABLE, TRAFFIC_ENV_DEFAULTS),
    },
    {
      key: "traffic",
      title: "Traffic: the other vehicles",
      table: TRAFFIC_CONFIG_TABLE,
      // files from before the observation's path block had none, nor the expert's keys
      absentInCheckpoint: {
        path_features: false,
        expert_headway: 1,
        expert_min_gap: 2.5,
        expert_stop_behind: 0,
      },
    },
  ],
  validate: (settings: EnvSettings) => {
    validateEnvConfig(envOf(settings));
    validateTrafficConfig(trafficOf(settings));
  },
  make: (settings: EnvSettings, numEnvs: number) =>
    new Traffic(envOf(settings), numEnvs, { traffic: trafficOf(settings) }),
  memoryPerEnv: (settings: EnvSettings) => routeMemory(envOf(settings)),
  ppoDefaults: {
    episodes: 4000,
    num_envs: 20,
    delta_clip: 12,
    warm_start_rounds: 10,
    warm_start_episodes: 400,
    warm_start_epochs: 2,
    warm_start_value_episodes: 800,
    warm_start_bc_coef: 1,
    init_log_std: -1,
    max_log_std: -1,
    ent_coef: 0,
    lr: 3e-4,
    eval_interval: 400,
    eval_episodes: 100,
    save_interval: 1000,
    heldout_episodes: 400,
  },
  ppoFromSettings: (settings: EnvSettings) => ({ horizon_steps: envOf(settings).horizon_steps }),
  planners: {
    sft: {
      description: "the built-in SFT planner on the route part z, blind to the other vehicles",
      make: (settings: EnvSettings) =>
        new ZPrefixPlanner(new BuiltinSftPlanner(envOf(settings), TRAFFIC_SFT_OPTIONS), {
          obsDim: obsDimOf(settings),
        }),
    },
    expert: {
      description:
        "the traffic expert (route targets, pulled in behind vehicles, around stopped ones)",
      make: (settings: EnvSettings) =>
        new TrafficExpertPlanner(envOf(settings), trafficOf(settings)),
    },
  },
  plannerFile: {
    horizon: (settings: EnvSettings) => envOf(settings).horizon_steps,
    inDim: (settings: EnvSettings) => 1 + 2 * envOf(settings).horizon_steps,
    wrap: (inner: WaypointPlanner, settings: EnvSettings) =>
      new ZPrefixPlanner(inner, { obsDim: obsDimOf(settings) }),
  },
  cloning: {
    make: (settings: EnvSettings, numEnvs: number) => new Driving(envOf(settings), numEnvs),
    expert: (settings: EnvSettings) => new ExpertPlanner(envOf(settings)),
    builtin: (settings: EnvSettings) => new BuiltinSftPlanner(envOf(settings)),
  },
  scenarios: TRAFFIC_SCENARIOS,
  metrics: TRAFFIC_METRICS,
  actionUnit: "m",
  observationDoc: (settings: EnvSettings, obsDim: number) => {
    const h = envOf(settings).horizon_steps, traffic = trafficOf(settings);
    const path = traffic.path_features
      ? "; then each one's [arc length along, signed offset from] the route path (m)"
      : "";
    return `the traffic observation (${obsDim}): z = ${
      zDoc(h)
    }; then ${traffic.neighbors} neighbouring vehicles, each [x, y, vx, vy, heading, length, width, valid] relative to the ego${path} (the planner sees z only)`;
  },
});
