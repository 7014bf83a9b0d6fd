/**
 * Prints how the expert, the built-in SFT planner and SFT + the ideal correction
 * drive (and SFT + the correction clipped to +-2 m per coordinate, the delta clip of
 * the Python trainer), on 200 seeds, with the default and the smoke env settings:
 * the numbers the env defaults are tuned by.
 *
 *     deno run bench/env_report.ts [episodes]
 *
 * @module
 */

import { DEFAULT_ENV_CONFIG, type EnvConfig } from "../src/env/mod.ts";
import { type WaypointPlanner } from "../src/sft/mod.ts";
import { BuiltinSftPlanner, Driving, ExpertPlanner } from "../src/env/mod.ts";
import { evaluatePolicy } from "../src/run/mod.ts";

/**
 * SFT plan plus the exact correction (expert - SFT), clipped to +-`clip` per
 * coordinate as the delta head's output is: with no clip it drives like the expert.
 */
function correctedSft(cfg: EnvConfig, clip = Infinity): WaypointPlanner {
  const sft = new BuiltinSftPlanner(cfg);
  const expert = new ExpertPlanner(cfg);
  let sftPlans = new Float64Array(0);
  let expertPlans = new Float64Array(0);
  return {
    horizon: cfg.horizon_steps,
    obsDim: 1 + 2 * cfg.horizon_steps,
    actionDim: 2 * cfg.horizon_steps,
    plan(obs, rows, out) {
      const a = 2 * cfg.horizon_steps;
      if (sftPlans.length < rows * a) {
        sftPlans = new Float64Array(rows * a);
        expertPlans = new Float64Array(rows * a);
      }
      sft.plan(obs, rows, sftPlans);
      expert.plan(obs, rows, expertPlans);
      for (let j = 0; j < rows * a; j++) {
        const delta = expertPlans[j] - sftPlans[j];
        out[j] = sftPlans[j] + Math.max(-clip, Math.min(clip, delta));
      }
    },
  };
}

const episodes = Number(Deno.args[0] ?? 200);
const settings: [string, EnvConfig][] = [
  ["default", { ...DEFAULT_ENV_CONFIG }],
  ["smoke", {
    ...DEFAULT_ENV_CONFIG,
    world_size: 50,
    horizon_steps: 5,
    waypoint_spacing: 5,
    max_episode_steps: 20,
  }],
];
for (const [name, cfg] of settings) {
  const planners: [string, WaypointPlanner][] = [
    ["expert", new ExpertPlanner(cfg)],
    ["sft", new BuiltinSftPlanner(cfg)],
    ["sft+ideal", correctedSft(cfg)],
    ["sft+clip2", correctedSft(cfg, 2)],
  ];
  for (const [label, planner] of planners) {
    const s = evaluatePolicy({
      makeEnv: (n) => new Driving(cfg, n),
      planner,
      model: null,
      deltaClip: 0,
      firstSeed: 0,
      count: episodes,
    })
      .summary;
    console.log(
      `${name.padEnd(8)} ${label.padEnd(10)} success ${(100 * s.success_rate).toFixed(1)}%` +
        `  offRoute ${(100 * s.offroad_rate).toFixed(1)}%  truncated ${
          (100 * s.truncated_rate).toFixed(1)
        }%` +
        `  return ${s.return_mean.toFixed(2)}  length ${s.steps_mean.toFixed(1)}` +
        `  completion ${s.route_completion_mean.toFixed(3)}`,
    );
  }
}
