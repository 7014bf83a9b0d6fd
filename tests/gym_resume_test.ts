/**
 * Resume through the Gymnasium bridge: Pendulum-v1 is deterministic given each episode's
 * seed, and every checkpoint falls on an episode boundary, so a run resumed from a middle
 * checkpoint equals the uninterrupted one: the same final.pt tensors (weights, Adam state,
 * observation and return normalisers) and the same metrics.json. The Python env's state
 * itself never travels: each episode is reset with a seed derived from the run seed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ptLeaves, readJson, resumeComparable, runCli, withTempDir } from "./_helpers.ts";
import { testPython } from "./_python.ts";

const cli = (args: string[]) => runCli(args, { allowRun: true });

const withoutTimestamps = (path: string) =>
  (readJson(path) as Record<string, unknown>[]).map(({ timestamp: _t, ...rest }) => rest);

Deno.test("gym:Pendulum-v1: a run resumed from a middle checkpoint equals the uninterrupted one", () =>
  withTempDir(async (dir) => {
    const gym = ["--env", "gym:Pendulum-v1", "--gym-python", testPython()];
    const full = join(dir, "full");
    const r = await cli([
      "train",
      ...gym,
      "--seed",
      "3",
      "--quiet",
      "--out-dir",
      full,
      "--max-episode-steps",
      "50",
      "--total-steps",
      "0",
      "--episodes",
      "12",
      "--steps-per-update",
      "0",
      "--num-envs",
      "4",
      "--eval-interval",
      "4",
      "--save-interval",
      "4",
      "--eval-episodes",
      "2",
      "--heldout-episodes",
      "2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const resumed = join(dir, "resumed");
    const from = join(full, "checkpoints", "checkpoint_4.pt");
    const r2 = await cli(["train", ...gym, "--resume", from, "--out-dir", resumed, "--quiet"]);
    assert.equal(r2.code, 0, r2.stderr);
    const a = resumeComparable(await ptLeaves(join(full, "final.pt")));
    const b = resumeComparable(await ptLeaves(join(resumed, "final.pt")));
    assert.ok([...a.keys()].some((k) => k.startsWith(".obs_rms.mean")), "obs_rms is saved");
    assert.deepEqual(b, a);
    assert.deepEqual(
      withoutTimestamps(join(resumed, "metrics.json")),
      withoutTimestamps(join(full, "metrics.json")),
    );
  }));
