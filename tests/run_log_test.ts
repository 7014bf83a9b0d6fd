/**
 * The run log: `metrics.json` entries keep their flat layout and key order through the
 * typed entry, and a snapshot cuts the log back after a dropped iteration.
 */

import assert from "node:assert/strict";
import { metricsEntryJson, parseMetricsEntry, renameOldBest, RunLog } from "../src/run/mod.ts";
import type { IterationResult } from "../src/ppo/mod.ts";

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
    rows: 10 * returns.length,
    update: UPDATE,
    learningRate: 3e-4,
    deltaNorm: { mean: 0.5, max: 1, std: 0.25 },
    returns,
    lengths: returns.map(() => 10),
    successes: returns.map((r) => (r > 0 ? 1 : 0)),
  };
}

const fail = (key: string, want: string): never => {
  throw new Error(`${key}: ${want}`);
};

Deno.test("a metrics entry is written in the file's key order and read back the same", () => {
  const log = new RunLog();
  log.record(iteration(0, [1, -1]));
  log.record(iteration(2, [3, 5]));
  const entry = log.entry(iteration(2, [3, 5]), {
    heldout: { return_mean: 4, success_rate: 0.5, ade_mean: 1.25, fde_mean: 2.5 },
    sft_heldout: { return_mean: 2, ade_mean: 3 },
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
    "heldout",
    "sft_heldout",
  ]);
  assert.deepEqual(Object.keys(json.heldout as object), [
    "return_mean",
    "success_rate",
    "ade_mean",
    "fde_mean",
  ]);
  assert.deepEqual(Object.keys(json.sft_heldout as object), ["return_mean", "ade_mean"]);
  const back = parseMetricsEntry(JSON.parse(JSON.stringify(json)), { fail });
  assert.deepEqual(back, entry);
  assert.equal(JSON.stringify(metricsEntryJson(back)), JSON.stringify(json));
  assert.throws(
    () => parseMetricsEntry({ ...json, update: { ...UPDATE, kl: "x" } }, { fail }),
    /^Error: update\.kl: a number$/,
  );
  assert.throws(
    () => parseMetricsEntry({ ...json, heldout: { return_mean: 4 } }, { fail }),
    /^Error: heldout\.success_rate: a number$/,
  );
  assert.throws(
    () => parseMetricsEntry({ ...json, sft_heldout: { return_mean: 2, ade_mean: null } }, { fail }),
    /^Error: sft_heldout\.ade_mean: a number$/,
  );
});

Deno.test("an entry written before the rename is read under the new names, one to one", () => {
  const log = new RunLog();
  log.record(iteration(0, [1, -1]));
  const entry = log.entry(iteration(0, [1, -1]), {
    heldout: { return_mean: 4, success_rate: 0.5, ade_mean: 1.25, fde_mean: 2.5 },
    sft_heldout: { return_mean: 2, ade_mean: 3 },
  });
  const { heldout: _, sft_heldout: __, ...head } = metricsEntryJson(entry);
  const old = {
    ...head,
    eval_return: 4,
    eval_success_rate: 0.5,
    ade: 1.25,
    fde: 2.5,
    sft_eval_return: 2,
    sft_ade: 3,
  };
  const back = parseMetricsEntry(JSON.parse(JSON.stringify(old)), { fail });
  assert.deepEqual(back, entry);
  assert.deepEqual(Object.keys(back.heldout), [
    "return_mean",
    "success_rate",
    "ade_mean",
    "fde_mean",
  ]);
  assert.throws(
    () => parseMetricsEntry({ ...old, eval_success_rate: "x" }, { fail }),
    /^Error: eval_success_rate: a number$/,
  );
  const { sft_eval_return: ___, ...noSft } = old;
  assert.throws(() => parseMetricsEntry(noSft, { fail }), /^Error: sft_eval_return: a number$/);
  assert.deepEqual(renameOldBest({ episode: 5, eval_return: 2, ade: 1 }), {
    episode: 5,
    return_mean: 2,
    ade_mean: 1,
  });
  const current = { episode: 5, return_mean: 2, ade_mean: 1 };
  assert.equal(renameOldBest(current), current);
});

Deno.test("a run log snapshot cuts history, entries and best back", () => {
  const log = new RunLog();
  log.record(iteration(0, [1, 2]));
  const restore = log.snapshot();
  log.record(iteration(2, [3]));
  log.metrics.push(log.entry(iteration(2, [3]), {
    heldout: { return_mean: 1, success_rate: 1 },
    sft_heldout: { return_mean: 0 },
  }));
  log.best = { episode: 3, return_mean: 1 };
  restore();
  assert.deepEqual(log.state(), {
    rewards: [1, 2],
    lengths: [10, 10],
    successes: [1, 1],
    metrics: [],
    best: null,
    base: "sft",
  });
});
