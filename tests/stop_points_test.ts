/**
 * Where a stop lands inside an iteration: inside a rollout, inside the PPO update, or
 * inside the evaluation that follows it, the loop puts the trainer and the run log back to
 * the state before that iteration, so a run stopped there and continued ends bit for bit like a run never
 * stopped. Polled at every step (`yieldMs: 0`) so the stop points are exact.
 */

import assert from "node:assert/strict";
import { BuiltinSftPlanner, Driving } from "../src/env/mod.ts";
import { RunLog, sftBaseline, trainLoop } from "../src/run/mod.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/ppo/mod.ts";
import type { LoopHooks } from "../src/run/mod.ts";
import type { PpoConfig } from "../src/ppo/mod.ts";
import { SMOKE_ENV } from "./_helpers.ts";

const PPO: PpoConfig = {
  ...DEFAULT_PPO_CONFIG,
  encoder_out_dim: 1 + 2 * SMOKE_ENV.horizon_steps,
  horizon_steps: SMOKE_ENV.horizon_steps,
  hidden_dim: 16,
  episodes: 10,
  num_envs: 5,
  eval_interval: 5,
  save_interval: 10,
  update_epochs: 2,
  eval_episodes: 3,
};

interface Run {
  trainer: Trainer;
  log: RunLog;
}

function newRun(): Run {
  const env = { ...SMOKE_ENV };
  const trainer = new Trainer({
    env,
    ppo: { ...PPO },
    planner: new BuiltinSftPlanner(env),
    makeEnv: (n) => new Driving(env, n),
  });
  return { trainer, log: new RunLog() };
}

function hooks(trainer: Trainer, shouldStop: () => boolean): LoopHooks {
  return {
    sft: sftBaseline(trainer),
    onMetrics: () => Promise.resolve(),
    onBest: () => Promise.resolve(),
    onCheckpoint: () => Promise.resolve(),
    shouldStop,
    yieldMs: 0,
  };
}

function assertSameState(ra: Run, rb: Run): void {
  const [a, b] = [ra.trainer, rb.trainer];
  assert.deepEqual(a.model.delta.data, b.model.delta.data);
  assert.deepEqual(a.model.value.data, b.model.value.data);
  assert.deepEqual(a.optimizer.expAvg, b.optimizer.expAvg);
  assert.deepEqual(a.optimizer.expAvgSq, b.optimizer.expAvgSq);
  assert.equal(a.optimizer.stepCount, b.optimizer.stepCount);
  assert.deepEqual(a.progress(), b.progress());
  const strip = (log: RunLog) => {
    const s = log.state();
    return { ...s, metrics: s.metrics.map((m) => ({ ...m, timestamp: null })) };
  };
  assert.deepEqual(strip(ra.log), strip(rb.log));
}

Deno.test("a stop inside a rollout, an update or the evaluation after it leaves the state before that iteration", async () => {
  const straight = newRun();
  const { trainer: st, log: sl } = straight;
  assert.deepEqual(await trainLoop(st, sl, hooks(st, () => false)), {
    stopped: false,
    dropped: false,
  });

  // Polls of the second iteration once its rollout is done (episode 10): one after each
  // minibatch of its update, then one after each step of the evaluation.
  const minibatches = sl.metrics[1].update.minibatches;
  const stops: Array<[string, (r: Run) => () => boolean]> = [
    // the third poll after the first evaluation: the second rollout's first step
    ["rollout", ({ trainer: t, log }) => {
      let polls = 0;
      return () => t.episode === 5 && log.metrics.length === 1 && ++polls === 3;
    }],
    ["update", ({ trainer: t }) => () => t.episode === 10],
    ["evaluation", ({ trainer: t }) => {
      let polls = 0;
      return () => t.episode === 10 && ++polls === minibatches + 2;
    }],
  ];
  // Adam steps (one per minibatch) done when each stop lands: in the rollout none of the
  // second update's, in the update some, in the evaluation all.
  const before = sl.metrics[0].update.minibatches;
  const expectSteps: Record<string, (n: number) => boolean> = {
    rollout: (n) => n === before,
    update: (n) => n > before && n < before + minibatches,
    evaluation: (n) => n === before + minibatches,
  };
  for (const [where, stopAt] of stops) {
    const run = newRun();
    const { trainer, log } = run;
    const stop = stopAt(run);
    let stepsAtStop = -1;
    const first = await trainLoop(
      trainer,
      log,
      hooks(trainer, () => {
        if (!stop()) return false;
        stepsAtStop = trainer.optimizer.stepCount;
        return true;
      }),
    );
    assert.ok(expectSteps[where](stepsAtStop), `${where}: stopped after ${stepsAtStop} steps`);
    assert.deepEqual(first, { stopped: true, dropped: true }, where);
    assert.equal(trainer.episode, 5, where);
    assert.equal(log.rewards.length, 5, where);
    assert.equal(log.metrics.length, 1, where);
    const again = await trainLoop(trainer, log, hooks(trainer, () => false));
    assert.deepEqual(again, { stopped: false, dropped: false }, where);
    assertSameState(run, straight);
  }
});

Deno.test("a snapshot slot reuses its buffers: its restore puts back the latest snapshot of the slot; others are unaffected", () => {
  const run = newRun();
  const { trainer } = run;
  const state = () => ({
    delta: trainer.model.delta.data.slice(),
    m: trainer.optimizer.expAvg.map((x) => x.slice()),
    progress: trainer.progress(),
  });
  const atStart = state();
  const fresh = trainer.snapshot(); // no slot: a copy of its own
  const first = trainer.snapshot("slot");
  trainer.iterate(5);
  const afterOne = state();
  const second = trainer.snapshot("slot"); // overwrites the slot's buffers
  const other = trainer.snapshot("other");
  trainer.iterate(5);
  assert.notDeepEqual(state().delta, afterOne.delta);
  second();
  assert.deepEqual(state(), afterOne);
  first(); // the slot holds the later weights; its own counters are the start's
  assert.deepEqual(state().delta, afterOne.delta);
  assert.deepEqual(state().progress, atStart.progress);
  other();
  assert.deepEqual(state(), afterOne);
  fresh();
  assert.deepEqual(state(), atStart);
});
