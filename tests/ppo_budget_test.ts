/**
 * Rollouts of a number of steps (`steps_per_update`), the budget in env steps
 * (`total_steps`) and the linear learning-rate decay, on the trainer: every rollout holds
 * whole episodes, the next episode index and seed start in a freed slot, no simulated step
 * is thrown away, and the run ends at the first rollout boundary at or after its budget.
 */

import assert from "node:assert/strict";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { Trainer, trainingEpisodeSeed } from "../src/ppo/mod.ts";
import type { IterationResult, PpoConfig } from "../src/ppo/mod.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import { RecordingEnv, WALK_PPO } from "./_walk_env.ts";

function walkTrainer(ppo: Partial<PpoConfig>): { trainer: Trainer; env: () => RecordingEnv } {
  let env: RecordingEnv | null = null;
  const trainer = new Trainer({
    env: DEFAULT_ENV_CONFIG,
    ppo: { ...WALK_PPO, ...ppo },
    planner: new ZeroPlanner({ obsDim: 2, actionDim: 1 }),
    makeEnv: (n) => (env = new RecordingEnv(n)),
  });
  return { trainer, env: () => env! };
}

function run(trainer: Trainer): IterationResult[] {
  const out: IterationResult[] = [];
  while (!trainer.finished()) out.push(trainer.iterate(trainer.nextRolloutSize()));
  return out;
}

Deno.test("steps_per_update: rollouts of whole episodes, the next episodes in freed slots, no step thrown away", () => {
  const target = 50, n = 3, cap = 20;
  const { trainer, env } = walkTrainer({
    steps_per_update: target,
    episodes: 60,
    eval_interval: 25,
    save_interval: 1000,
  });
  const results = run(trainer);
  assert.equal(trainer.episode, 60);
  let first = 0;
  for (const r of results) {
    assert.equal(r.firstEpisode, first);
    first += r.episodes;
    assert.equal(r.returns.length, r.episodes);
    // whole episodes: the rollout's steps are its episodes' lengths
    assert.equal(r.lengths.reduce((a, b) => a + b, 0), r.envSteps);
    const end = r.firstEpisode + r.episodes;
    const endsOnBoundary = end % 25 === 0 || end === 60;
    assert.ok(r.envSteps >= target || endsOnBoundary, `${r.envSteps} steps`);
    // a slot starts an episode only while the rollout holds fewer than `target` steps
    assert.ok(r.envSteps < target + n * cap, `${r.envSteps} steps`);
    assert.ok(r.episodes > n, "more episodes than slots");
  }
  // eval points are rollout boundaries
  assert.ok(results.some((r) => r.firstEpisode + r.episodes === 25));
  assert.ok(results.some((r) => r.firstEpisode + r.episodes === 50));
  assert.equal(env().simulated, trainer.envSteps, "simulated = used");
  const seeds = Array.from({ length: 60 }, (_, k) => trainingEpisodeSeed(WALK_PPO.seed, k));
  assert.deepEqual(env().seeds.toSorted(), seeds.toSorted(), "episode k plays its own seed");
});

Deno.test("steps_per_update 0: one episode per slot, num_envs episodes a rollout", () => {
  const { trainer, env } = walkTrainer({ episodes: 9 });
  const results = run(trainer);
  assert.deepEqual(results.map((r) => r.episodes), [3, 3, 3]);
  assert.equal(env().simulated, trainer.envSteps);
  assert.deepEqual(
    env().seeds,
    Array.from({ length: 9 }, (_, k) => trainingEpisodeSeed(WALK_PPO.seed, k)),
  );
});

Deno.test("total_steps: the run ends at the first rollout boundary at or after the budget; episodes is no budget", () => {
  for (const steps of [0, 40]) {
    const { trainer } = walkTrainer({ total_steps: 333, steps_per_update: steps, episodes: 1 });
    const results = run(trainer);
    const total = results.reduce((a, r) => a + r.envSteps, 0);
    assert.equal(trainer.envSteps, total);
    assert.ok(total >= 333 && total - results.at(-1)!.envSteps < 333, `${total}`);
    assert.ok(trainer.episode > 1, "episodes is not the budget");
    if (steps > 0) {
      // the last rollout aims at what is left of the budget
      const before = total - results.at(-1)!.envSteps;
      assert.ok(results.at(-1)!.envSteps < 333 - before + 3 * 20);
    }
  }
});

Deno.test("lr_schedule linear: lr · (1 − budget used before the rollout), constant by default", () => {
  const lr = 1e-3;
  const byEpisode = run(walkTrainer({ lr, lr_schedule: "linear", episodes: 12 }).trainer);
  assert.deepEqual(
    byEpisode.map((r) => r.learningRate),
    [0, 3, 6, 9].map((e) => lr * (1 - e / 12)),
  );
  const { trainer } = walkTrainer({ lr, lr_schedule: "linear", total_steps: 200 });
  let before = 0;
  const results = run(trainer);
  for (const r of results) {
    assert.equal(r.learningRate, lr * (1 - before / 200));
    before += r.envSteps;
  }
  assert.equal(trainer.optimizer.lr, results.at(-1)!.learningRate, "the update's lr");
  const constant = run(walkTrainer({ lr, episodes: 6 }).trainer);
  assert.deepEqual(constant.map((r) => r.learningRate), [lr, lr]);
});

Deno.test("a dropped iteration puts back the normalisers, the counters and the lr", async () => {
  const { trainer } = walkTrainer({
    norm_obs: true,
    norm_reward: true,
    lr_schedule: "linear",
    steps_per_update: 30,
  });
  trainer.iterate(trainer.nextRolloutSize());
  const before = trainer.progress();
  const lr = trainer.optimizer.lr;
  let polls = 0;
  const stopped = await trainer.iterateUntil(trainer.nextRolloutSize(), {
    shouldStop: () => ++polls > 1,
    yieldMs: 0,
  });
  assert.equal(stopped, null);
  assert.deepEqual(trainer.progress(), before);
  assert.equal(trainer.optimizer.lr, lr);
  assert.ok(trainer.rewardScaler!.returns.every((r) => r === 0));
});
