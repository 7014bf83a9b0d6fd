/**
 * The example env: MountainCarContinuous follows Gymnasium's dynamics, holds no driving
 * field, and plain PPO (zero base planner) learns it from the CLI, `train --env
 * mountain_car`, through the same Trainer, loop, held-out evaluation, `eval` and resume as
 * the driving env.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ptTensors, readJson, ROOT, runCli, withTempDir } from "./_helpers.ts";
import {
  EpisodeStatistics,
  HELDOUT_SEED_BASE,
  MOUNTAIN_CAR_ENV,
  MOUNTAIN_CAR_MAX_STEPS,
  MountainCar,
} from "../src/env/mod.ts";
import { evaluatePolicy, runConfigDefaults } from "../src/run/mod.ts";
import { Trainer } from "../src/ppo/mod.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import { Rng } from "../src/math/rng.ts";

Deno.test("MountainCar: one step by Gymnasium's formulas, reward on the unclipped action", () => {
  const venv = new EpisodeStatistics(new MountainCar(2), { autoReset: true });
  venv.reset([5, 6]);
  const p0 = venv.obs[0], q0 = venv.obs[2];
  assert.ok(p0 >= -0.6 && p0 <= -0.4 && venv.obs[1] === 0, `start ${venv.obs}`);
  venv.step(new Float64Array([0.5, 3]));
  const v0 = 0.5 * 0.0015 - 0.0025 * Math.cos(3 * p0);
  assert.equal(venv.obs[1], v0);
  assert.equal(venv.obs[0], p0 + v0);
  assert.equal(venv.rewards[0], 0 - 0.1 * 0.5 * 0.5);
  // the force is clipped to 1, the penalty is on the action as given (3)
  const v1 = 1 * 0.0015 - 0.0025 * Math.cos(3 * q0);
  assert.equal(venv.obs[3], v1);
  assert.equal(venv.rewards[1], 0 - 0.1 * 3 * 3);
  assert.deepEqual([...venv.terminated, ...venv.truncated], [0, 0, 0, 0]);
});

Deno.test("MountainCar: swinging reaches the goal (+100, success, restart); a cap truncates", () => {
  const venv = new EpisodeStatistics(new MountainCar(1), { autoReset: true });
  venv.reset([11]);
  let steps = 0, sum = 0;
  for (; steps < MOUNTAIN_CAR_MAX_STEPS; steps++) {
    const push = venv.obs[1] >= 0 ? 1 : -1; // push along the velocity: pumps energy
    venv.step(new Float64Array([push]));
    sum += venv.rewards[0];
    if (venv.terminated[0]) break;
  }
  assert.equal(venv.terminated[0], 1, "the swing never reached the goal");
  assert.equal(venv.success[0], 1);
  assert.equal(venv.truncated[0], 0);
  assert.equal(venv.rewards[0], 100 - 0.1);
  assert.ok(venv.finalObs[0] >= 0.45, `final position ${venv.finalObs[0]}`);
  assert.equal(venv.episodeLengths[0], steps + 1);
  assert.ok(Math.abs(venv.episodeReturns[0] - sum) < 1e-9);
  assert.equal(venv.episodeMetrics[0], venv.finalObs[0], "max_position is the goal position");
  // restarted in the same step, with seed 11 + N
  assert.ok(venv.obs[0] >= -0.6 && venv.obs[0] <= -0.4 && venv.obs[1] === 0);
  assert.equal(venv.seeds[0], 12);

  const capped = new EpisodeStatistics(new MountainCar(1, 5), { autoReset: true });
  capped.reset([0]);
  for (let t = 0; t < 5; t++) capped.step(new Float64Array([0]));
  assert.equal(capped.truncated[0], 1);
  assert.equal(capped.terminated[0], 0);
  assert.equal(capped.episodeLengths[0], 5);
});

Deno.test("the example env's code holds no driving field", () => {
  const source = Deno.readTextFileSync(join(ROOT, "src/env/mountain_car/mountain_car.ts"));
  // its dynamics and little else: returns, time limit and auto-reset are the shared layer's
  const lines = source.trimEnd().split("\n").length;
  assert.ok(lines <= 90, `mountain_car.ts has ${lines} lines`);
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  for (const word of ["EnvConfig", "horizon", "waypoint", "route", "Driving", "cfg"]) {
    assert.ok(!code.includes(word), `mountain_car.ts code mentions ${word}`);
  }
});

Deno.test("train --env mountain_car: plain PPO learns, far above its random policy; eval and resume agree", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "mc");
    const train = await runCli([
      "train",
      "--env",
      "mountain_car",
      "--out-dir",
      out,
      "--heldout-episodes",
      "50",
      "--quiet",
    ]);
    assert.equal(train.code, 0, train.stderr);
    const config = readJson(join(out, "config.json")) as Record<string, unknown>;
    assert.equal(config.env_name, "mountain_car");
    const summary = readJson(join(out, "train_metrics.json")) as {
      heldout: { base: Record<string, number>; refined: Record<string, number> };
    };
    const { base: zero, refined } = summary.heldout;

    // The same policy untrained, its actions sampled: the random policy, on the same seeds.
    const makeEnv = (n: number) => new MountainCar(n);
    const ppo = { ...runConfigDefaults(MOUNTAIN_CAR_ENV).ppo, encoder_out_dim: 2 };
    const planner = new ZeroPlanner({ obsDim: 2, actionDim: 1 });
    const untrained = new Trainer({ env: { max_episode_steps: 999 }, ppo, planner, makeEnv });
    const random = evaluatePolicy({
      planner,
      model: untrained.model,
      deltaClip: ppo.delta_clip,
      firstSeed: HELDOUT_SEED_BASE,
      count: 50,
      makeEnv,
      sampleRng: new Rng(1),
    }).summary;

    assert.ok(
      refined.success_rate >= 0.9 && refined.success_rate > random.success_rate + 0.5,
      `success: trained ${refined.success_rate}, random ${random.success_rate}`,
    );
    assert.ok(
      refined.return_mean > random.return_mean + 100 && refined.return_mean > 50,
      `return: trained ${refined.return_mean}, random ${random.return_mean}`,
    );
    assert.equal(zero.success_rate, 0, "the zero action never climbs the hill");
    assert.ok(refined.max_position_mean >= 0.45);

    // `eval` on the same seeds gives the held-out numbers.
    const ev = await runCli([
      "eval",
      "--env",
      "mountain_car",
      "--policy",
      join(out, "final.pt"),
      "--episodes",
      "50",
      "--json",
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    const doc = JSON.parse(ev.stdout) as { summary: Record<string, number> };
    assert.equal(doc.summary.return_mean, refined.return_mean);
    assert.equal(doc.summary.success_rate, refined.success_rate);

    // Resumed from the middle checkpoint: the same final weights, bit for bit.
    const resumed = join(dir, "resumed");
    const resume = await runCli([
      "train",
      "--resume",
      join(out, "checkpoints", "checkpoint_64.pt"),
      "--out-dir",
      resumed,
      "--heldout-episodes",
      "50",
      "--quiet",
    ]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.deepEqual(
      await ptTensors(join(resumed, "final.pt")),
      await ptTensors(join(out, "final.pt")),
    );
  }));
