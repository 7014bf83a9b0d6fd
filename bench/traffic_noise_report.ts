/**
 * What the exploration noise alone does in the traffic env: the built-in SFT planner plus
 * a zero-mean Gaussian delta (the policy's spread, no learning) with standard deviation
 * e^lx on every x and e^ly on every y of the plan, on the held-out seeds from 2^30:
 * collision rate, success, mean episode length and route completion. A sideways spread
 * slows the car by itself (the speed loop brakes for the curvature a sideways target
 * asks for), which is why a wide spread is "safe" in training while the mean is not.
 *
 *   deno run -A bench/traffic_noise_report.ts [episodes]
 */

import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { builtinEnv, defaultSettings, HELDOUT_SEED_BASE } from "../src/env/mod.ts";
import { evaluatePolicy } from "../src/run/mod.ts";

const count = Number(Deno.args[0] ?? 400);
const traffic = builtinEnv("traffic")!, settings = defaultSettings(traffic);
const horizon = settings.env.horizon_steps as number;
const makeEnv = (n: number) => traffic.make(settings, n);
const probe = makeEnv(1);
const planner = traffic.planners!.sft.make(settings);
const spreads: [number, number][] = [
  [-20, -20],
  [0.5, -20],
  [-20, 0.5],
  [0.5, 0.5],
  [0.5, -1],
  [1, -1.5],
];
console.log("log_std x  log_std y  collide  success  steps  route");
for (const [lx, ly] of spreads) {
  // a delta head whose mean is 0 everywhere, with the given spread
  const model = new ActorCritic({
    inDim: probe.obsDim,
    hidden: 8,
    actionShape: [horizon, 2],
    rng: new Rng(1),
  });
  model.delta.view("net.4.weight").fill(0);
  const logStd = model.delta.view("log_std");
  for (let j = 0; j < logStd.length; j++) logStd[j] = j % 2 === 0 ? lx : ly;
  const { summary: s } = evaluatePolicy({
    makeEnv,
    planner,
    model,
    deltaClip: 10,
    firstSeed: HELDOUT_SEED_BASE,
    count,
    sampleRng: new Rng(5),
  });
  console.log(
    `${String(lx).padStart(9)}  ${String(ly).padStart(9)}  ${
      (100 * s.collision_rate).toFixed(1).padStart(6)
    }%  ${(100 * s.success_rate).toFixed(1).padStart(6)}%  ${
      s.steps_mean.toFixed(1).padStart(5)
    }  ${s.route_completion.toFixed(3)}`,
  );
}
