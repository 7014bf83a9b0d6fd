/**
 * `ppo.delta_cost`: the rewards a rollout learns from are the env's less the cost per
 * metre of each step's sampled, clipped delta; the returns it reports stay the env's.
 */

import assert from "node:assert/strict";
import { EpisodeStatistics } from "../src/env/mod.ts";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { RolloutBuffer, RolloutCollector } from "../src/ppo/mod.ts";
import type { EpisodeOutcomes } from "../src/ppo/mod.ts";
import { runToEnd } from "../src/event_loop.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import { RecordingEnv } from "./_walk_env.ts";

// One rollout of 3 episodes with the given cost: the buffer and the outcomes.
function rollout(deltaCost: number, deltaClip: number) {
  const n = 3;
  const vec = new EpisodeStatistics(new RecordingEnv(n));
  const model = new ActorCritic({ inDim: 2, hidden: 8, actionShape: [1], rng: new Rng(1) });
  model.delta.view("log_std").fill(0.5);
  const buffer = new RolloutBuffer({
    numEnvs: n,
    maxSteps: vec.maxEpisodeSteps,
    obsDim: 2,
    actDim: 1,
    batchSize: 8,
  });
  const collector = new RolloutCollector({
    vec,
    model,
    planner: new ZeroPlanner({ obsDim: 2, actionDim: 1 }),
    policyRng: new Rng(7),
    buffer,
    rewardScaler: null,
    seed: 3,
    deltaClip,
    deltaCost,
  });
  const out: EpisodeOutcomes = { returns: [], lengths: [], successes: [] };
  const { steps } = runToEnd(
    collector.collect({ firstEpisode: 0, maxEpisodes: n, targetSteps: 0 }, out),
  );
  return { buffer, out, rows: steps };
}

Deno.test("delta_cost: the learned rewards pay |clipped sampled delta| per step, the reported returns do not", () => {
  const clip = 0.7;
  const plain = rollout(0, clip), costed = rollout(0.25, clip);
  assert.ok(plain.rows > 9);
  assert.equal(costed.rows, plain.rows);
  assert.deepEqual(costed.out, plain.out);
  let clipped = 0;
  for (let r = 0; r < plain.rows; r++) {
    const a = plain.buffer.act[r];
    assert.equal(costed.buffer.act[r], a);
    const norm = Math.min(Math.abs(a), clip);
    if (Math.abs(a) > clip) clipped++;
    assert.ok(Math.abs(costed.buffer.rew[r] - (plain.buffer.rew[r] - 0.25 * norm)) < 1e-12);
  }
  assert.ok(clipped > 0, "some sampled deltas beyond the clip");
});
