/**
 * How the `sft` defaults were chosen: behaviour-clone with a configuration on several
 * seeds and report the planner's held-out closed-loop success, return and ADE; with
 * `ppo=N`, also train the PPO delta head on top for N episodes and report the refined
 * policy, to check that the residual can still improve on the cloned planner.
 *
 * ```
 * deno run --allow-read bench/sft_tuning.ts                       # the defaults, 4 seeds
 * deno run --allow-read bench/sft_tuning.ts hidden_dim=64 weight_decay=0 ppo=500
 * ```
 *
 * @module
 */

import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { Rng } from "../src/math/mod.ts";
import {
  collectDemonstrations,
  DEFAULT_SFT_CONFIG,
  evaluatePlannerAde,
  MlpPlanner,
  type SftConfig,
  trainBehaviourCloning,
  validateSftConfig,
  type WaypointPlanner,
} from "../src/sft/mod.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/rl/mod.ts";

const env = { ...DEFAULT_ENV_CONFIG };
const sft: SftConfig = { ...DEFAULT_SFT_CONFIG };
let ppoEpisodes = 0;
let seeds = [42, 1, 2, 3];
for (const arg of Deno.args) {
  const [key, value] = arg.split("=");
  if (key === "ppo") ppoEpisodes = Number(value);
  else if (key === "seeds") seeds = value.split(",").map(Number);
  else if (key in sft) (sft as unknown as Record<string, number>)[key] = Number(value);
  else throw new Error(`unknown setting '${key}' (SftConfig keys, ppo=N, seeds=a,b,c)`);
}
validateSftConfig(sft);

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(
  `sft ${JSON.stringify(sft)}${ppoEpisodes > 0 ? `, then PPO ${ppoEpisodes} episodes` : ""}`,
);
for (const seed of seeds) {
  const t0 = performance.now();
  const demos = collectDemonstrations(env, {
    episodes: sft.episodes,
    seed,
    noiseStd: sft.noise_std,
  });
  const planner = new MlpPlanner({
    inDim: demos.obsDim,
    hidden: sft.hidden_dim,
    horizon: env.horizon_steps,
    rng: new Rng(seed),
  });
  const fit = trainBehaviourCloning(planner, demos, {
    epochs: sft.epochs,
    lr: sft.lr,
    batchSize: sft.batch_size,
    weightDecay: sft.weight_decay,
    seed,
  });
  const seconds = (performance.now() - t0) / 1000;
  const bc = evaluatePlannerAde(env, planner, { episodes: sft.heldout_episodes });
  let line = `seed ${seed}: loss ${fit.lossHistory.at(-1)!.toFixed(3)}  success ${
    pct(bc.successRate)
  }  return ${bc.meanReturn.toFixed(2)}  ADE ${bc.ade.toFixed(3)}  FDE ${bc.fde.toFixed(3)}  (${
    seconds.toFixed(1)
  } s)`;
  if (ppoEpisodes > 0) {
    const ppo = { ...DEFAULT_PPO_CONFIG, episodes: ppoEpisodes, seed };
    const trainer = new Trainer({ env, ppo, planner });
    while (trainer.episode < ppo.episodes) trainer.iterate(trainer.nextRolloutSize());
    const refined = evaluatePlannerAde(env, refinedPlanner(planner, trainer, ppo.delta_clip), {
      episodes: sft.heldout_episodes,
    });
    line += `  -> refined success ${pct(refined.successRate)}  return ${
      refined.meanReturn.toFixed(2)
    }  ADE ${refined.ade.toFixed(3)}`;
  }
  console.log(line);
}

/** sft + clip(delta head mean): the policy `eval` scores. */
function refinedPlanner(sftPlanner: MlpPlanner, trainer: Trainer, clip: number): WaypointPlanner {
  let mean = new Float64Array(0), value = new Float64Array(0);
  return {
    horizon: sftPlanner.horizon,
    obsDim: sftPlanner.obsDim,
    plan(obs, rows, out) {
      const a = 2 * sftPlanner.horizon;
      if (mean.length < rows * a) {
        mean = new Float64Array(rows * a);
        value = new Float64Array(rows);
      }
      sftPlanner.plan(obs, rows, out);
      trainer.model.act(obs, rows, mean, value);
      for (let j = 0; j < rows * a; j++) out[j] += Math.max(-clip, Math.min(clip, mean[j]));
    },
  };
}
