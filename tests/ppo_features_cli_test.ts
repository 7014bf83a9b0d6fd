/**
 * The PPO options for general envs through `train` and `eval`: a run with observation
 * normalisation, reward scaling, linear lr decay, a step budget and step-sized rollouts
 * resumes exactly from a middle checkpoint (and counts the whole run's env steps); `eval`
 * applies the checkpoint's `obs_rms`; bad values of the new keys, in flags, `--config`
 * files and checkpoints, end in one line and exit code 2.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ptLeaves, readJson, resumeComparable, runCli, withTempDir } from "./_helpers.ts";
import { PtDict, readPt, Tensor, writePt } from "../src/io/torch_pt.ts";

import { buildRunConfig, parseTrainArgs } from "../src/cli/train.ts";
import { DRIVING_ENV } from "../src/env/mod.ts";

const FLAGS = [
  "--env",
  "mountain_car",
  "--max-episode-steps",
  "60",
  "--num-envs",
  "4",
  "--norm-obs",
  "true",
  "--norm-reward",
  "true",
  "--lr-schedule",
  "linear",
  "--total-steps",
  "2700",
  "--steps-per-update",
  "300",
  "--eval-interval",
  "10",
  "--save-interval",
  "10",
  "--eval-episodes",
  "2",
  "--heldout-episodes",
  "3",
  "--quiet",
];

const entries = (path: string) =>
  (readJson(path) as Record<string, unknown>[]).map(({ timestamp: _t, ...rest }) => rest);

Deno.test("norm_obs, norm_reward, linear lr, total_steps, steps_per_update: a resumed run equals the uninterrupted one", () =>
  withTempDir(async (dir) => {
    const full = join(dir, "full");
    const r = await runCli(["train", ...FLAGS, "--out-dir", full]);
    assert.equal(r.code, 0, r.stderr);
    const tm = readJson(join(full, "train_metrics.json")) as Record<string, unknown>;
    const lengths = tm.lengths as number[];
    const steps = lengths.reduce((a, b) => a + b, 0);
    assert.equal(tm.env_steps, steps);
    assert.ok(steps >= 2700 && steps < 2700 + 8 * 60, `${steps} env steps`);
    const middle = join(full, "checkpoints", "checkpoint_20.pt");
    const ckpt = await readPt(middle) as PtDict;
    for (const key of ["obs_rms", "ret_rms", "env_steps"]) assert.ok(ckpt.has(key), key);
    assert.equal(ckpt.get("env_steps"), lengths.slice(0, 20).reduce((a, b) => a + b, 0));
    const rms = ckpt.get("obs_rms") as PtDict;
    assert.deepEqual([...rms.keys()], ["mean", "var", "count", "epsilon", "clip"]);
    assert.deepEqual((rms.get("mean") as Tensor).shape, [2]);
    assert.equal((rms.get("var") as Tensor).dtype, "float64");

    const resumed = join(dir, "resumed");
    const r2 = await runCli(["train", "--resume", middle, "--out-dir", resumed, "--quiet"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(resumed, "final.pt"))),
      resumeComparable(await ptLeaves(join(full, "final.pt"))),
    );
    assert.deepEqual(entries(join(resumed, "metrics.json")), entries(join(full, "metrics.json")));
    const tr = readJson(join(resumed, "train_metrics.json")) as Record<string, unknown>;
    assert.equal(tr.env_steps, tm.env_steps, "env_steps counts the whole run");
    assert.deepEqual(tr.heldout, tm.heldout);

    // the eval Worker evaluates with a copy of the statistics: the same entries and results
    const worker = join(dir, "worker");
    const r3 = await runCli(["train", ...FLAGS, "--eval-worker", "--out-dir", worker]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(entries(join(worker, "metrics.json")), entries(join(full, "metrics.json")));
    const tw = readJson(join(worker, "train_metrics.json")) as Record<string, unknown>;
    assert.deepEqual(tw.heldout, tm.heldout);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(worker, "best.pt"))),
      resumeComparable(await ptLeaves(join(full, "best.pt"))),
    );

    // eval applies obs_rms: final.pt on the held-out seeds gives the run's own result
    const ev = await runCli([
      "eval",
      "--policy",
      join(full, "final.pt"),
      "--episodes",
      "3",
      "--json",
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    const doc = JSON.parse(ev.stdout) as { summary: Record<string, number> };
    const refined = (tm.heldout as { refined: Record<string, number> }).refined;
    assert.equal(doc.summary.return_mean, refined.return_mean);

    // bad values of the new checkpoint keys: one line naming the key, exit 2
    const bad = async (edit: (root: PtDict) => void, key: string) => {
      const root = await readPt(middle) as PtDict;
      edit(root);
      const path = join(dir, "bad.pt");
      await writePt(path, root);
      for (
        const args of [["train", "--resume", path, "--out-dir", join(dir, "x")], [
          "eval",
          "--policy",
          path,
          "--episodes",
          "1",
        ]]
      ) {
        // eval reads obs_rms alone (a file without it is a policy on raw observations)
        if (args[0] === "eval" && !key.startsWith("obs_rms.")) continue;
        const out = await runCli(args);
        assert.equal(out.code, 2, `${key}: ${out.stderr}`);
        assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
        assert.ok(out.stderr.includes(key), `${key}: ${out.stderr}`);
      }
    };
    const obsRms = (root: PtDict) => root.get("obs_rms") as PtDict;
    await bad((root) => (obsRms(root).get("var") as Tensor).data[1] = NaN, "obs_rms.var");
    await bad((root) => (obsRms(root).get("var") as Tensor).data[0] = -1, "obs_rms.var");
    await bad(
      (root) => obsRms(root).set("mean", new Tensor("float64", [3], new Float64Array(3))),
      "obs_rms.mean",
    );
    await bad((root) => (root.get("ret_rms") as PtDict).set("var", -2), "ret_rms.var");
    await bad((root) => root.set("env_steps", -5), "env_steps");
    await bad((root) => root.delete("obs_rms"), "obs_rms");
    // turning a normaliser off on resume is refused too
    const off = await runCli([
      "train",
      "--resume",
      middle,
      "--out-dir",
      join(dir, "y"),
      "--norm-obs",
      "false",
    ]);
    assert.equal(off.code, 2, off.stderr);
    assert.match(off.stderr, /obs_rms: the run had ppo\.norm_obs on/);
  }));

Deno.test("the new keys: flags and --config refuse bad values naming the flag or key", () =>
  withTempDir((dir) => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["--lr-schedule", "cosine"],
        /--lr-schedule: expected one of constant, linear, got 'cosine'/,
      ],
      [["--norm-obs", "yes"], /--norm-obs: expected true or false, got 'yes'/],
      [["--norm-reward", "1"], /--norm-reward: expected true or false/],
      [["--steps-per-update", "-1"], /--steps-per-update: -1 is out of range/],
      [["--total-steps", "1.5"], /--total-steps: expected an integer/],
    ];
    const files: Array<[object, RegExp]> = [
      [{ ppo: { lr_schedule: "cosine" } }, /ppo\.lr_schedule: expected one of constant, linear/],
      [{ ppo: { clip_obs: 0 } }, /ppo\.clip_obs: expected a number in \(0, 1000000\]/],
      [{ ppo: { norm_obs: 1 } }, /ppo\.norm_obs/],
    ];
    for (const [i, [body, pattern]] of files.entries()) {
      const path = join(dir, `c${i}.json`);
      Deno.writeTextFileSync(path, JSON.stringify(body));
      cases.push([["--config", path], pattern]);
    }
    for (const [args, pattern] of cases) {
      assert.throws(
        () => buildRunConfig(parseTrainArgs(args, DRIVING_ENV).values, DRIVING_ENV),
        pattern,
        args.join(" "),
      );
    }
    const ok = buildRunConfig(
      parseTrainArgs(
        ["--norm-obs", "true", "--lr-schedule", "linear", "--total-steps", "5000"],
        DRIVING_ENV,
      ).values,
      DRIVING_ENV,
    );
    assert.deepEqual(
      [ok.ppo.norm_obs, ok.ppo.norm_reward, ok.ppo.lr_schedule, ok.ppo.total_steps],
      [true, false, "linear", 5000],
    );
  }));
