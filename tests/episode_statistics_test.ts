// The shared episode layer over any env of the contract: time limit as Gymnasium's TimeLimit,
// returns and lengths, success and metrics, masks, auto-reset, and an env that answers
// with promises (an env in another process).
import assert from "node:assert/strict";
import type { EpisodeMetric, VecEnv } from "../src/env/contract.ts";
import { EpisodeStatistics } from "../src/env/episode_statistics.ts";
import { Pendulum } from "../examples/pendulum.ts";

// Counts up by the action; terminates (success) at >= goal; reports its peak as a metric.
class Counter implements VecEnv {
  readonly obsDim = 1;
  readonly actionDim = 1;
  readonly metrics: EpisodeMetric[] = [{ name: "peak", description: "highest count" }];
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly success: Uint8Array;
  readonly resets: Array<[number, number]> = [];
  readonly metricCalls: number[] = [];
  constructor(readonly numEnvs: number, readonly maxEpisodeSteps: number, readonly goal: number) {
    this.obs = new Float64Array(numEnvs);
    this.rewards = new Float64Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
    this.success = new Uint8Array(numEnvs);
  }
  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      this.resets.push([i, seeds[i]]);
      this.obs[i] = 0;
    }
  }
  step(actions: Float64Array, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      this.obs[i] += actions[i];
      this.rewards[i] = actions[i];
      this.terminated[i] = this.success[i] = this.obs[i] >= this.goal ? 1 : 0;
    }
  }
  writeEpisodeMetrics(i: number, out: Float64Array, offset: number): void {
    this.metricCalls.push(i);
    out[offset] = this.obs[i];
  }
}

Deno.test("returns, lengths, success and metrics of finished episodes; Gymnasium's TimeLimit", () => {
  const env = new Counter(3, 4, 4);
  const venv = new EpisodeStatistics(env);
  venv.reset([10, 11, 12]);
  const ones = new Float64Array([1, 1, 0.5]);
  for (let t = 1; t <= 3; t++) {
    venv.step(ones);
    assert.deepEqual([...venv.done], [0, 0, 0], `step ${t}`);
  }
  venv.step(ones); // step 4 = the cap: env 0 and 1 reach the goal there, env 2 does not
  assert.deepEqual([...venv.terminated], [1, 1, 0]);
  assert.deepEqual(
    [...venv.truncated],
    [1, 1, 1],
    "a step at the cap is truncated, terminated or not",
  );
  assert.deepEqual([...venv.done], [1, 1, 1]);
  assert.deepEqual([...venv.episodeReturns], [4, 4, 2]);
  assert.deepEqual([...venv.episodeLengths], [4, 4, 4]);
  assert.deepEqual([...venv.success], [1, 1, 0]);
  assert.deepEqual([...venv.episodeMetrics], [4, 4, 2]);
  assert.deepEqual(env.metricCalls, [0, 1, 2], "metrics are read once per episode");
  assert.equal(venv.hasSuccess, true);
});

Deno.test("a masked copy does not move and its episode is kept apart", () => {
  const env = new Counter(2, 100, 3);
  const venv = new EpisodeStatistics(env);
  venv.reset([0, 1]);
  const mask = new Uint8Array([1, 0]);
  for (let t = 0; t < 3; t++) venv.step(new Float64Array([1, 7]), mask);
  assert.deepEqual([...venv.obs], [3, 0]);
  assert.deepEqual([...venv.done], [1, 0]);
  assert.deepEqual([...venv.stepCount], [3, 0]);
  venv.reset([5, 6], new Uint8Array([1, 0])); // restart env 0 alone
  assert.deepEqual(env.resets.slice(2), [[0, 5]]);
  venv.step(new Float64Array([1, 1]));
  assert.deepEqual([...venv.stepCount], [1, 1]);
  assert.deepEqual([...venv.done], [0, 0]);
});

Deno.test("auto-reset restarts a finished copy with seed + N and keeps its final observation", () => {
  const env = new Counter(2, 100, 2);
  const venv = new EpisodeStatistics(env, { autoReset: true });
  venv.reset([7, 8]);
  venv.step(new Float64Array([2, 1]));
  assert.deepEqual([...venv.done], [1, 0]);
  assert.deepEqual([...venv.finalObs], [2, 1]);
  assert.deepEqual([...venv.obs], [0, 1], "env 0 restarted in the same step");
  assert.deepEqual(env.resets.slice(2), [[0, 9]]);
  assert.deepEqual([...venv.seeds], [9, 8]);
  assert.equal(venv.episodeReturns[0], 2);
  venv.step(new Float64Array([0, 0]));
  assert.deepEqual([...venv.stepCount], [1, 2]);
});

Deno.test("an env that answers with promises gives the same episodes", async () => {
  const sync = new EpisodeStatistics(new Pendulum(3, { max_episode_steps: 5, g: 10 }));
  const inner = new Pendulum(3, { max_episode_steps: 5, g: 10 });
  const asyncEnv: VecEnv = {
    numEnvs: 3,
    obsDim: 3,
    actionDim: 1,
    maxEpisodeSteps: 5,
    obs: inner.obs,
    rewards: inner.rewards,
    terminated: inner.terminated,
    reset: (s, m) => Promise.resolve().then(() => inner.reset(s, m)),
    step: (a, m) => new Promise((r) => setTimeout(() => r(inner.step(a, m)), 1)),
  };
  const viaPromises = new EpisodeStatistics(asyncEnv);
  sync.reset([1, 2, 3]);
  await viaPromises.reset([1, 2, 3]);
  const actions = new Float64Array([2, -2, 0.5]);
  for (let t = 0; t < 5; t++) {
    assert.equal(sync.step(actions), undefined);
    await viaPromises.step(actions);
    assert.deepEqual(viaPromises.obs, sync.obs);
  }
  assert.deepEqual([...viaPromises.done], [1, 1, 1]);
  assert.deepEqual(viaPromises.episodeReturns, sync.episodeReturns);
  assert.equal(sync.hasSuccess, false);
  assert.deepEqual([...sync.success], [0, 0, 0]);
});

Deno.test("examples/pendulum.ts follows Gymnasium's Pendulum-v1 step", () => {
  const p = new Pendulum(1, { max_episode_steps: 200, g: 10 });
  p.reset([3]);
  const [c, s, thdot] = p.obs;
  const th = Math.atan2(s, c);
  p.step(new Float64Array([5])); // clipped to 2
  const newThdot = Math.max(-8, Math.min(8, thdot + (15 * Math.sin(th) + 6) * 0.05));
  assert.ok(Math.abs(p.obs[2] - newThdot) < 1e-12);
  assert.ok(Math.abs(Math.atan2(p.obs[1], p.obs[0]) - (th + newThdot * 0.05)) < 1e-9);
  assert.ok(Math.abs(p.rewards[0] + (th * th + 0.1 * thdot * thdot + 0.001 * 4)) < 1e-12);
});
