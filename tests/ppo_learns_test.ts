/**
 * PPO works with any environment of the VecEnv interface, and it learns: on a toy
 * "aim" environment whose best plan is the SFT plan shifted by a fixed offset, the
 * trained delta head's mean action converges to that offset and returns rise.
 */

import assert from "node:assert/strict";
import { Rng } from "../src/math/rng.ts";
import { UserError } from "../src/errors.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import type { VecEnv } from "../src/env/mod.ts";
import type { WaypointPlanner } from "../src/sft/mod.ts";
import { RunLog } from "../src/run/mod.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/ppo/mod.ts";

const OFFSET = [0.5, -0.3];
const EPISODE_STEPS = 3;

/**
 * One waypoint (H = 1). obs = [0, tx, ty] with a target drawn per episode from its
 * seed; reward = -|plan - (target + OFFSET)|^2; episodes are truncated after 3 steps.
 */
class AimVecEnv implements VecEnv {
  readonly obsDim = 3;
  readonly actionDim = 2;
  readonly maxEpisodeSteps = EPISODE_STEPS;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;

  constructor(readonly numEnvs: number) {
    this.obs = new Float64Array(numEnvs * 3);
    this.rewards = new Float64Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
  }

  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      const rng = new Rng(seeds[i]);
      this.obs.set([0, rng.range(-1, 1), rng.range(-1, 1)], i * 3);
    }
  }

  step(plans: Float64Array, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      const dx = plans[2 * i] - (this.obs[3 * i + 1] + OFFSET[0]);
      const dy = plans[2 * i + 1] - (this.obs[3 * i + 2] + OFFSET[1]);
      this.rewards[i] = -(dx * dx + dy * dy);
    }
  }
}

/** The "SFT planner" of the aim env: the target itself (so the delta must learn OFFSET). */
const aimSft: WaypointPlanner = {
  horizon: 1,
  obsDim: 3,
  actionDim: 2,
  plan(obs, rows, out) {
    for (let i = 0; i < rows; i++) {
      out[2 * i] = obs[3 * i + 1];
      out[2 * i + 1] = obs[3 * i + 2];
    }
  },
};

Deno.test("PPO trains on any VecEnv: the delta head learns the planner's fixed offset", () => {
  const env = { ...DEFAULT_ENV_CONFIG, horizon_steps: 1, max_episode_steps: EPISODE_STEPS };
  const ppo = {
    ...DEFAULT_PPO_CONFIG,
    encoder_out_dim: 3,
    horizon_steps: 1,
    hidden_dim: 16,
    episodes: 1000,
    num_envs: 10,
    eval_interval: 1000,
    save_interval: 1000,
    lr: 3e-3,
  };
  const trainer = new Trainer({ env, ppo, planner: aimSft, makeEnv: (n) => new AimVecEnv(n) });
  const meanDelta = () => {
    const obs = new Float64Array([0, 0.3, -0.2, 0, -0.6, 0.7]);
    const mean = new Float64Array(4), value = new Float64Array(2);
    trainer.model.act(obs, 2, mean, value);
    return [(mean[0] + mean[2]) / 2, (mean[1] + mean[3]) / 2];
  };
  const before = meanDelta();
  assert.ok(Math.hypot(before[0], before[1]) < 0.1, `initial delta ${before}`);
  const log = new RunLog();
  while (trainer.episode < ppo.episodes) log.record(trainer.iterate(trainer.nextRolloutSize()));
  const after = meanDelta();
  assert.ok(
    Math.abs(after[0] - OFFSET[0]) < 0.1 && Math.abs(after[1] - OFFSET[1]) < 0.1,
    `learned delta ${after}, expected about ${OFFSET}`,
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(log.rewards.slice(0, 50)), late = mean(log.rewards.slice(-50));
  assert.ok(late > early, `returns ${early} -> ${late}`);
  assert.equal(log.rewards.length, 1000);
  assert.ok(log.lengths.every((l) => l === EPISODE_STEPS));
});

Deno.test("a non-finite reward stops training with a one-line UserError (exit code 3)", () => {
  class NanEnv extends AimVecEnv {
    override step(plans: Float64Array, mask?: Uint8Array): void {
      super.step(plans, mask);
      this.rewards[0] = NaN;
    }
  }
  const env = { ...DEFAULT_ENV_CONFIG, horizon_steps: 1, max_episode_steps: EPISODE_STEPS };
  const ppo = {
    ...DEFAULT_PPO_CONFIG,
    encoder_out_dim: 3,
    horizon_steps: 1,
    hidden_dim: 8,
    num_envs: 2,
  };
  const trainer = new Trainer({ env, ppo, planner: aimSft, makeEnv: (n) => new NanEnv(n) });
  assert.throws(() => trainer.iterate(2), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^training diverged: non-finite loss or gradient .* after episode 2/);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
});
