/**
 * The run log: `metrics.json` entries keep their flat layout and key order through the
 * typed entry, and a snapshot cuts the log back after a dropped iteration.
 */

import assert from "node:assert/strict";
import { metricsEntryJson, parseMetricsEntry, RunLog } from "../src/rl/mod.ts";
import type { IterationResult } from "../src/rl/mod.ts";

const UPDATE = {
  policy_loss: 0.1,
  value_loss: 2,
  entropy: -3,
  kl: 0.01,
  clip_fraction: 0.2,
  explained_variance: 0.5,
  grad_norm_delta: 0.4,
  grad_norm_value: 1.5,
  epochs: 4,
  minibatches: 8,
};

function iteration(first: number, returns: number[]): IterationResult {
  return {
    firstEpisode: first,
    episodes: returns.length,
    envSteps: 10 * returns.length,
    update: UPDATE,
    deltaNorm: { mean: 0.5, max: 1, std: 0.25 },
    returns,
    lengths: returns.map(() => 10),
    successes: returns.map((r) => (r > 0 ? 1 : 0)),
  };
}

const fail = (key: string, want: string): never => {
  throw new Error(`${key}: ${want}`);
};

Deno.test("a metrics entry is written flat in the file's key order and read back the same", () => {
  const log = new RunLog();
  log.record(iteration(0, [1, -1]));
  log.record(iteration(2, [3, 5]));
  const entry = log.entry(iteration(2, [3, 5]), {
    eval_return: 4,
    eval_success_rate: 0.5,
    env: { ade: 1.25, fde: 2.5 },
    sft_eval_return: 2,
    sft: { ade: 3 },
  });
  assert.equal(entry.episode, 4);
  assert.equal(entry.mean_reward, 2);
  assert.equal(entry.success_rate, 0.75);
  const json = metricsEntryJson(entry);
  assert.deepEqual(Object.keys(json), [
    "episode",
    "mean_reward",
    "mean_length",
    "total_episodes",
    "success_rate",
    "update",
    "eval",
    "timestamp",
    "eval_return",
    "eval_success_rate",
    "ade",
    "fde",
    "sft_eval_return",
    "sft_ade",
  ]);
  const back = parseMetricsEntry(JSON.parse(JSON.stringify(json)), { fail });
  assert.deepEqual(back, entry);
  assert.equal(JSON.stringify(metricsEntryJson(back)), JSON.stringify(json));
  assert.throws(
    () => parseMetricsEntry({ ...json, update: { ...UPDATE, kl: "x" } }, { fail }),
    /^Error: update\.kl: a number$/,
  );
});

Deno.test("a run log snapshot cuts history, entries and best back", () => {
  const log = new RunLog();
  log.record(iteration(0, [1, 2]));
  const restore = log.snapshot();
  log.record(iteration(2, [3]));
  log.metrics.push(log.entry(iteration(2, [3]), {
    eval_return: 1,
    eval_success_rate: 1,
    env: {},
    sft_eval_return: 0,
    sft: {},
  }));
  log.best = { episode: 3, eval_return: 1 };
  restore();
  assert.deepEqual(log.state(), {
    rewards: [1, 2],
    lengths: [10, 10],
    successes: [1, 1],
    metrics: [],
    best: null,
  });
});
