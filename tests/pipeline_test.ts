/**
 * The SFT -> RL -> eval pipeline as a user runs it: `sft`, `train --sft-model`, `eval`,
 * `best.pt`, and the bad input of each step.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readJson,
  runCli,
  SMOKE_ENV,
  SMOKE_ENV_FLAGS,
  SMOKE_FLAGS,
  TINY_SFT_FLAGS,
  withFlags,
  withTempDir,
} from "./_helpers.ts";
import { MlpPlanner } from "../src/sft/mod.ts";
import { Rng } from "../src/math/rng.ts";
import { saveSftPlanner } from "../src/sft/mod.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { PtDict, readPt, Tensor } from "../src/io/torch_pt.ts";

interface Summary {
  ade_mean: number;
  fde_mean: number;
  success_rate: number;
  return_mean: number;
  steps_mean: number;
  offroad_rate: number;
  num_episodes: number;
  ade_std: number;
  fde_std: number;
}
interface EvalDoc {
  run_id: string;
  domain: string;
  policy: { name: string; checkpoint?: string; sft_model?: string };
  scenarios: Record<string, unknown>[];
  summary: Summary;
}

Deno.test("train --sft-model refines a planner read from a file; a misfit file is refused", () =>
  withTempDir(async (dir) => {
    const model = join(dir, "planner.pt");
    const planner = new MlpPlanner({ inDim: 11, hidden: 8, horizon: 5, rng: new Rng(3) });
    await saveSftPlanner(model, planner, { env: SMOKE_ENV });
    const out = join(dir, "run");
    const r = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS, "--sft-model", model]);
    assert.equal(r.code, 0, r.stderr);
    const config = readJson(join(out, "config.json")) as { sft_model: string };
    assert.equal(config.sft_model, model);
    const final = await readPt(join(out, "final.pt")) as PtDict;
    assert.equal(final.get("sft_model"), model);
    // The held-out SFT line is this planner's, not the built-in one's.
    const tm = readJson(join(out, "train_metrics.json")) as {
      heldout: { sft: { ade_mean: number } };
    };
    const builtin = await runCli(["train", "--out-dir", join(dir, "builtin"), ...SMOKE_FLAGS]);
    assert.equal(builtin.code, 0, builtin.stderr);
    const tb = readJson(join(dir, "builtin", "train_metrics.json")) as typeof tm;
    assert.notEqual(tm.heldout.sft.ade_mean, tb.heldout.sft.ade_mean);

    // A planner for H = 20 does not fit an H = 5 environment.
    const wide = join(dir, "wide.pt");
    await saveSftPlanner(
      wide,
      new MlpPlanner({ inDim: 41, hidden: 8, horizon: 20, rng: new Rng(3) }),
      {
        env: DEFAULT_ENV_CONFIG,
      },
    );
    const bad = await runCli([
      "train",
      "--out-dir",
      join(dir, "bad"),
      ...SMOKE_FLAGS,
      "--sft-model",
      wide,
    ]);
    assert.equal(bad.code, 2);
    const lines = bad.stderr.trim().split("\n");
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(
      lines[0],
      /^error: .*wide\.pt: head\.0\.weight has shape \[8, 41\], expected \[8, 11\]/,
    );
    assert.throws(() => Deno.statSync(join(dir, "bad")), "nothing written for a refused run");
    // A training checkpoint is not an SFT planner.
    const notPlanner = await runCli([
      "train",
      "--out-dir",
      join(dir, "bad2"),
      ...SMOKE_FLAGS,
      "--sft-model",
      join(out, "final.pt"),
    ]);
    assert.equal(notPlanner.code, 2);
    assert.match(
      notPlanner.stderr,
      /final\.pt: not an SFT planner checkpoint \(no 'head' state_dict\)/,
    );
  }));

Deno.test("sft -> train --sft-model -> eval, end to end; best.pt is the best metrics entry", () =>
  withTempDir(async (dir) => {
    const sftDir = join(dir, "sft");
    const sft = await runCli([
      "sft",
      "--out-dir",
      sftDir,
      ...TINY_SFT_FLAGS,
      "--quiet",
    ]);
    assert.equal(sft.code, 0, sft.stderr);
    const model = join(sftDir, "model.pt");
    const run = join(dir, "run");
    const train = await runCli([
      "train",
      "--out-dir",
      run,
      ...withFlags(SMOKE_FLAGS, { "--episodes": "20" }),
      "--sft-model",
      model,
    ]);
    assert.equal(train.code, 0, train.stderr);

    // best.pt holds the entry of metrics.json with the highest held-out return (ties:
    // lower ADE), under the entry's names: return_mean, ade_mean.
    const metrics = readJson(join(run, "metrics.json")) as {
      episode: number;
      heldout: { return_mean: number; ade_mean: number };
    }[];
    assert.equal(metrics.length, 4);
    for (const { heldout: h } of metrics) {
      assert.ok(Number.isFinite(h.return_mean) && Number.isFinite(h.ade_mean));
    }
    const best = metrics.reduce((b, m) =>
      m.heldout.return_mean > b.heldout.return_mean ||
        (m.heldout.return_mean === b.heldout.return_mean && m.heldout.ade_mean < b.heldout.ade_mean)
        ? m
        : b
    );
    const bestPt = await readPt(join(run, "best.pt")) as PtDict;
    assert.equal(bestPt.get("episode"), best.episode);
    const record = bestPt.get("best") as PtDict;
    assert.deepEqual(Object.fromEntries(record), {
      episode: best.episode,
      return_mean: best.heldout.return_mean,
      ade_mean: best.heldout.ade_mean,
    });
    const trainMetrics = readJson(join(run, "train_metrics.json")) as { best: unknown };
    assert.deepEqual(trainMetrics.best, Object.fromEntries(record));

    const output = join(dir, "eval.json");
    const args = [
      "eval",
      ...SMOKE_ENV_FLAGS,
      "--policy",
      "expert",
      "--policy",
      "sft",
      "--sft-model",
      model,
      "--policy",
      join(run, "final.pt"),
      "--episodes",
      "8",
      "--output",
      output,
    ];
    const ev = await runCli(args);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /expert/);
    const docs = readJson(output) as EvalDoc[];
    assert.deepEqual(docs.map((d) => d.policy), [
      { name: "expert" },
      { name: "sft", checkpoint: model },
      { name: join(run, "final.pt"), checkpoint: join(run, "final.pt"), sft_model: model },
    ]);
    for (const d of docs) {
      assert.equal(d.domain, "rl");
      assert.equal(d.scenarios.length, 8);
      assert.equal(d.summary.num_episodes, 8);
      assert.deepEqual(
        d.scenarios.map((s) => s.scenario_id),
        Array.from({ length: 8 }, (_, i) => `seed:${2 ** 30 + i}`),
      );
      for (
        const key of [
          "success",
          "return",
          "steps",
          "route_completion",
          "offroad",
          "final_dist",
          "ade",
          "fde",
          "comfort",
          "raw",
        ]
      ) {
        assert.ok(key in d.scenarios[0], `scenario lacks ${key}`);
      }
    }
    const [expert, sftDoc, refined] = docs;
    assert.equal(expert.summary.ade_mean, 0);
    assert.equal(expert.summary.fde_mean, 0);
    assert.ok(sftDoc.summary.ade_mean > 0);
    assert.ok(expert.summary.return_mean >= sftDoc.summary.return_mean);
    assert.ok(expert.summary.return_mean >= refined.summary.return_mean);
    assert.equal(refined.run_id, "run/final");
    const deltaNorm = (d: EvalDoc) =>
      (d.scenarios[0].raw as { mean_delta_norm: number }).mean_delta_norm;
    assert.ok(deltaNorm(refined) > 0);
    assert.equal(deltaNorm(sftDoc), 0);

    // Deterministic for a seed: the same command prints the same JSON.
    const again = await runCli([...args.slice(0, -2), "--json"]);
    const twice = await runCli([...args.slice(0, -2), "--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), docs);
    assert.equal(twice.stdout, again.stdout);
    // --output does not replace a file without --overwrite.
    const refused = await runCli(args);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--output .*eval\.json: exists; pass --overwrite/);
  }));

Deno.test("eval of the expert has ADE 0 and the highest success rate, on the default env", async () => {
  const r = await runCli([
    "eval",
    "--policy",
    "sft",
    "--policy",
    "expert",
    "--episodes",
    "30",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [sft, expert] = JSON.parse(r.stdout) as EvalDoc[];
  assert.equal(expert.summary.ade_mean, 0);
  assert.ok(expert.summary.success_rate > sft.summary.success_rate);
  assert.ok(sft.summary.ade_mean > 0.5);
  // ADE/FDE are means over steps of per-step errors: FDE (the far end) is the larger.
  assert.ok(sft.summary.fde_mean > sft.summary.ade_mean);
});

Deno.test("eval, sft and report: bad input is one line and exit code 2", () =>
  withTempDir(async (dir) => {
    const notCkpt = join(dir, "notes.pt");
    Deno.writeTextFileSync(notCkpt, "not a checkpoint");
    const cases: [string[], RegExp][] = [
      [["eval", "--policy", notCkpt], /notes\.pt: .*zip/],
      [["eval", "--policy", join(dir, "missing.pt")], /missing\.pt/],
      [["eval", "--episodes", "0"], /--episodes: 0 is out of range/],
      [["eval", "--episodes", "x"], /--episodes: expected an integer/],
      [["eval", "--frobnicate"], /frobnicate/],
      [["sft", "--epochs", "0", "--out-dir", join(dir, "s")], /--epochs: 0 is out of range/],
      [["report", dir], /metrics\.json: not found/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(lines[0], /^error: /);
      assert.match(lines[0], pattern);
    }
    // A policy that is a .pt but not a training checkpoint.
    const planner = join(dir, "planner.pt");
    await saveSftPlanner(
      planner,
      new MlpPlanner({ inDim: 41, hidden: 4, horizon: 20, rng: new Rng(1) }),
      {
        env: DEFAULT_ENV_CONFIG,
      },
    );
    const r = await runCli(["eval", "--policy", planner]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.trim(),
      /^error: .*planner\.pt: not a training checkpoint \(no 'delta_head'/,
    );
    // The SFT checkpoint written by the writer has the documented layout.
    const root = await readPt(planner) as PtDict;
    const head = root.get("head") as PtDict;
    assert.deepEqual([...head.keys()], ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert.deepEqual((head.get("2.weight") as Tensor).shape, [40, 4]);
    assert.equal(root.get("in_dim"), 41);
    assert.equal(root.get("horizon_steps"), 20);
  }));
