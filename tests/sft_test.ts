/**
 * The SFT stage: ADE/FDE by hand, the MLP planner's gradient against finite
 * differences, behaviour cloning on a tiny config, the SFT checkpoint (round trip and
 * refusals), and `sft` run as a user runs it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../src/math/mod.ts";
import { type EnvConfig, resolveEnvConfig } from "../src/env/mod.ts";
import {
  collectDemonstrations,
  demonstrationLoss,
  MlpPlanner,
  MlpPlannerCache,
  planErrors,
  trainBehaviourCloning,
} from "../src/sft/mod.ts";
import { ExpertPlanner } from "../src/env/mod.ts";

import {
  loadSftPlanner,
  saveSftPlanner,
  SFT_CHECKPOINT_FORMAT,
  sftCheckpoint,
  sftPlannerFromPt,
} from "../src/sft/mod.ts";
import { PtDict, PtFormatError, readPt, Tensor, writePt } from "../src/io/torch_pt.ts";
import {
  centralDifference,
  drivingEnvs,
  plannerSummary,
  readJson,
  ROOT,
  SMOKE_ENV,
  snapshot,
  TINY_SFT_FLAGS,
  withTempDir,
} from "./_helpers.ts";

const SFT_TEMP = { prefix: "sft_test_" };

function randomArray(rng: Rng, len: number, scale = 1): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = scale * rng.normal();
  return a;
}

/** Random observations shaped like the env's: speed, then waypoints ahead. */
function randomObs(rng: Rng, rows: number, horizon: number, spacing = 4): Float64Array {
  const d = 1 + 2 * horizon;
  const obs = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    obs[r * d] = rng.range(0, 10);
    for (let j = 0; j < horizon; j++) {
      obs[r * d + 1 + 2 * j] = spacing * (j + 1) + rng.normal();
      obs[r * d + 2 + 2 * j] = 0.1 * (j + 1) * (j + 1) * rng.normal();
    }
  }
  return obs;
}

function catchMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PtFormatError, `expected a PtFormatError, got ${e}`);
    assert.ok(!e.message.includes("\n"), `message is not one line: ${e.message}`);
    return e.message;
  }
  assert.fail("expected an error");
}

Deno.test("planErrors: hand-computed ADE and FDE", () => {
  const h = 4;
  const expert = new Float64Array([4, 0, 8, 0, 12, 0, 16, 0, 4, 1, 8, 2, 12, 3, 16, 4]);
  const plan = expert.slice();
  plan[6] += 3; // row 0: the last waypoint off by (3, 4), the others exact
  plan[7] += 4;
  for (let j = 8; j < 16; j += 2) plan[j + 1] -= 1; // row 1: every waypoint 1 m to the right
  const ade = new Float64Array(2), fde = new Float64Array(2);
  planErrors(plan, expert, 2, h, ade, fde);
  assert.equal(fde[0], 5);
  assert.equal(ade[0], 5 / h);
  assert.equal(fde[1], 1);
  assert.equal(ade[1], 1);
  // The expert against itself: zero.
  planErrors(expert, expert, 2, h, ade, fde);
  assert.deepEqual([...ade, ...fde], [0, 0, 0, 0]);
  assert.throws(() => planErrors(plan, expert, 3, h, ade, fde), RangeError);
});

Deno.test("MlpPlanner: torch layout, init bounds, gradient matches finite differences", () => {
  const inDim = 7, hidden = 5, horizon = 3, a = 2 * horizon, n = 4;
  const planner = new MlpPlanner({ inDim, hidden, horizon, rng: new Rng(3) });
  assert.deepEqual(
    planner.params.specs.map((s) => [s.name, s.shape]),
    [["0.weight", [5, 7]], ["0.bias", [5]], ["2.weight", [6, 5]], ["2.bias", [6]]],
  );
  // torch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32 values.
  for (const [name, fanIn] of [["0.weight", inDim], ["0.bias", inDim], ["2.weight", hidden]]) {
    for (const w of planner.params.view(name as string)) {
      assert.ok(Math.abs(w) <= 1 / Math.sqrt(fanIn as number));
      assert.equal(w, Math.fround(w));
    }
  }
  const rng = new Rng(11);
  const obs = randomArray(rng, n * inDim);
  const target = randomArray(rng, n * a);
  const loss = () => {
    const out = new Float64Array(n * a);
    planner.plan(obs, n, out);
    let s = 0;
    for (let j = 0; j < n * a; j++) s += (out[j] - target[j]) ** 2;
    return s / (n * a);
  };
  const cache = new MlpPlannerCache(planner, n);
  planner.forward(obs, n, cache);
  for (let j = 0; j < n * a; j++) cache.dOut[j] = 2 * (cache.out[j] - target[j]) / (n * a);
  planner.params.zeroGrad();
  planner.backward(obs, n, cache);
  const analytic = planner.params.grad.slice();
  const data = planner.params.data;
  const eps = 1e-6;
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    const numeric = centralDifference(data, i, eps, loss);
    const err = Math.abs(numeric - analytic[i]) / Math.max(Math.abs(numeric), 1e-4);
    worst = Math.max(worst, err);
  }
  assert.ok(worst < 1e-5, `worst relative gradient error ${worst}`);
});

Deno.test("MlpPlanner.plan: a pure function of each row, whatever the batch", () => {
  const planner = new MlpPlanner({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(5) });
  const rows = 150; // beyond the initial scratch of 64 rows: it grows
  const obs = randomObs(new Rng(6), rows, 20);
  const batch = new Float64Array(rows * 40);
  planner.plan(obs, rows, batch);
  const one = new Float64Array(40);
  for (const r of [0, 63, 64, 149]) {
    planner.plan(obs.subarray(r * 41, (r + 1) * 41), 1, one);
    assert.deepEqual(one, batch.subarray(r * 40, (r + 1) * 40));
  }
  const again = new Float64Array(rows * 40);
  planner.plan(obs, rows, again);
  assert.deepEqual(again, batch);
});

Deno.test("behaviour cloning on a tiny config lowers the loss and beats the untrained ADE", () => {
  const source = { makeEnv: drivingEnvs(SMOKE_ENV), expert: new ExpertPlanner(SMOKE_ENV) };
  const demos = collectDemonstrations(source, { episodes: 30, seed: 7, noiseStd: 0.5 });
  assert.equal(demos.obs.length, demos.count * 11);
  assert.equal(demos.expert.length, demos.count * 10);
  assert.ok(demos.firstSeed + demos.episodes <= 2 ** 30, "demonstrations use held-out seeds");
  // Labels are the expert's plans for the recorded observations.
  const expertPlans = new Float64Array(demos.count * 10);
  new ExpertPlanner(SMOKE_ENV).plan(demos.obs, demos.count, expertPlans);
  assert.deepEqual(expertPlans, demos.expert);

  const train = () => {
    const planner = new MlpPlanner({ inDim: 11, hidden: 16, horizon: 5, rng: new Rng(7) });
    const before = demonstrationLoss(planner, demos);
    const untrained = plannerSummary(SMOKE_ENV, planner, { count: 20 });
    const fit = trainBehaviourCloning(planner, demos, {
      epochs: 15,
      lr: 3e-3,
      batchSize: 32,
      seed: 7,
    });
    return { planner, before, untrained, fit };
  };
  const { planner, before, untrained, fit } = train();
  assert.equal(fit.lossHistory.length, 15);
  assert.equal(fit.numSteps, 15 * Math.ceil(demos.count / 32));
  const after = demonstrationLoss(planner, demos);
  assert.ok(after < before / 10, `loss ${before} -> ${after}`);
  assert.ok(fit.lossHistory[14] < fit.lossHistory[0]);
  // The folded-back weights are float32 and reproduce the training loss closely.
  for (const w of planner.params.data) assert.equal(w, Math.fround(w));
  assert.ok(Math.abs(after - fit.lossHistory[14]) < 0.5 * fit.lossHistory[14] + 0.05);
  const trained = plannerSummary(SMOKE_ENV, planner, { count: 20 });
  assert.ok(
    trained.ade_mean < untrained.ade_mean / 2,
    `ADE ${untrained.ade_mean} -> ${trained.ade_mean}`,
  );
  assert.ok(trained.fde_mean < untrained.fde_mean);
  assert.ok(trained.return_mean > untrained.return_mean);

  // One seed fixes everything.
  const again = train();
  assert.deepEqual(again.planner.params.data, planner.params.data);
  assert.deepEqual(again.fit.lossHistory, fit.lossHistory);
});

Deno.test("evaluatePolicy: the expert has zero error; each seed counted once", () => {
  const expert = new ExpertPlanner(SMOKE_ENV);
  const a = plannerSummary(SMOKE_ENV, expert, { count: 10, numEnvs: 3 });
  const b = plannerSummary(SMOKE_ENV, expert, { count: 10, numEnvs: 10 });
  assert.equal(a.ade_mean, 0);
  assert.equal(a.fde_mean, 0);
  assert.deepEqual(a, b);
});

Deno.test("SFT checkpoint: layout, and save -> load gives bit-identical plans", () =>
  withTempDir(async (dir) => {
    const planner = new MlpPlanner({ inDim: 41, hidden: 12, horizon: 20, rng: new Rng(9) });
    const path = join(dir, "model.pt");
    await saveSftPlanner(path, planner, { env: resolveEnvConfig(), extra: { seed: 9 } });
    const root = await readPt(path);
    assert.ok(root instanceof PtDict);
    const head = root.get("head");
    assert.ok(head instanceof PtDict && head.ordered);
    assert.deepEqual([...head.keys()], ["0.weight", "0.bias", "2.weight", "2.bias"]);
    for (const t of head.values()) assert.ok(t instanceof Tensor && t.dtype === "float32");
    assert.deepEqual((head.get("0.weight") as Tensor).shape, [12, 41]);
    assert.deepEqual((head.get("2.weight") as Tensor).shape, [40, 12]);
    assert.equal(root.get("in_dim"), 41);
    assert.equal(root.get("horizon_steps"), 20);
    assert.equal(root.get("hidden_dim"), 12);
    assert.equal(root.get("format"), SFT_CHECKPOINT_FORMAT);
    assert.equal(root.get("seed"), 9);
    assert.equal((root.get("env_cfg") as PtDict).get("horizon_steps"), 20);

    const loaded = await loadSftPlanner(path, { horizon: 20, obsDim: 41 });
    assert.equal(loaded.hidden, 12);
    const obs = randomObs(new Rng(10), 33, 20);
    const want = new Float64Array(33 * 40), got = new Float64Array(33 * 40);
    planner.plan(obs, 33, want);
    loaded.plan(obs, 33, got);
    assert.deepEqual(got, want);
  }, SFT_TEMP));

Deno.test("SFT checkpoint: wrong shapes, missing keys and non-checkpoints are refused", async () => {
  const small = new MlpPlanner({ inDim: 11, hidden: 16, horizon: 5, rng: new Rng(1) });
  const env = resolveEnvConfig({ world_size: 50, horizon_steps: 5, waypoint_spacing: 5 });
  const expect = { horizon: 20, obsDim: 41 };
  assert.equal(
    catchMessage(() => sftPlannerFromPt(sftCheckpoint(small, { env }), "model.pt", expect)),
    "model.pt: head.0.weight has shape [16, 11], expected [16, 41] (in_dim = 1 + 2 * horizon_steps of the environment)",
  );
  // Right input, wrong number of waypoints.
  const wrongOut = new MlpPlanner({ inDim: 41, hidden: 16, horizon: 5, rng: new Rng(1) });
  assert.equal(
    catchMessage(() => sftPlannerFromPt(sftCheckpoint(wrongOut, { env }), "model.pt", expect)),
    "model.pt: head.2.weight has shape [10, 16], expected [40, 16] (2 * horizon_steps of the environment)",
  );
  // A hidden layer that disagrees with hidden_dim.
  const good = new MlpPlanner({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(1) });
  const lying = sftCheckpoint(good, { env: resolveEnvConfig() }).set("hidden_dim", 64);
  assert.match(
    catchMessage(() => sftPlannerFromPt(lying, "model.pt", expect)),
    /^model\.pt: head\.0\.weight has shape \[16, 41\], expected \[64, 41\] \(hidden_dim = 64 in the file\)$/,
  );
  // A missing key.
  const missing = sftCheckpoint(good, { env: resolveEnvConfig() });
  (missing.get("head") as PtDict).delete("2.bias");
  assert.equal(
    catchMessage(() => sftPlannerFromPt(missing, "model.pt", expect)),
    "model.pt: head.2.bias is missing (expected a tensor of shape [40])",
  );
  // Not an SFT checkpoint at all.
  const rl = new PtDict([["delta_head", new PtDict([], true)], ["episode", 3]]);
  assert.equal(
    catchMessage(() => sftPlannerFromPt(rl, "final.pt", expect)),
    "final.pt: not an SFT planner checkpoint (no 'head' state_dict)",
  );
  assert.match(
    catchMessage(() => sftPlannerFromPt([1, 2], "x.pt", expect)),
    /^x\.pt: not an SFT planner checkpoint/,
  );
  // A non-finite weight.
  const nan = sftCheckpoint(good, { env: resolveEnvConfig() });
  ((nan.get("head") as PtDict).get("0.bias") as Tensor).data[3] = NaN;
  assert.match(
    catchMessage(() => sftPlannerFromPt(nan, "model.pt", expect)),
    /^model\.pt: head\.0\.bias holds a non-finite value/,
  );

  // The same through files.
  await withTempDir(async (dir) => {
    const path = join(dir, "model.pt");
    await saveSftPlanner(path, small, { env });
    await assert.rejects(
      () => loadSftPlanner(path, expect),
      (e: Error) => e instanceof PtFormatError && e.message.startsWith(`${path}: head.0.weight`),
    );
    const noHead = join(dir, "final.pt");
    await writePt(noHead, rl);
    await assert.rejects(
      () => loadSftPlanner(noHead, expect),
      {
        message: `${noHead}: not an SFT planner checkpoint (no 'head' state_dict)`,
      },
    );
    await assert.rejects(() => loadSftPlanner(join(dir, "nope.pt"), expect), PtFormatError);
  }, SFT_TEMP);
});

const SFT_CLI = join(ROOT, "src/cli/sft.ts");

async function runSftCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", SFT_CLI, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("sft CLI: a tiny run writes model.pt, config.json and train_metrics.json", () =>
  withTempDir(async (dir) => {
    const outDir = join(dir, "bc");
    const run = await runSftCli([...TINY_SFT_FLAGS, "--out-dir", outDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /held-out \(6 episodes.*success .*ADE .* m/);
    assert.match(run.stderr, /epoch 3\/3 +loss/);
    assert.deepEqual(
      [...Deno.readDirSync(outDir)].map((e) => e.name).sort(),
      ["config.json", "model.pt", "train_metrics.json"],
    );
    const config = readJson(join(outDir, "config.json")) as Record<string, Record<string, unknown>>;
    assert.equal(config.out_dir as unknown, outDir);
    assert.equal(config.env.horizon_steps, 5);
    assert.equal(config.sft.epochs, 3);
    assert.equal(config.sft.hidden_dim, 8);
    const metrics = readJson(join(outDir, "train_metrics.json")) as Record<string, unknown>;
    for (
      const key of [
        "loss_mean",
        "num_steps",
        "horizon_steps",
        "n_examples",
        "ade_mean",
        "fde_mean",
        "success_rate",
        "return_mean",
        "steps_mean",
        "offroad_rate",
        "loss_history",
        "start_time",
        "end_time",
      ]
    ) {
      assert.ok(key in metrics, `train_metrics.json lacks ${key}`);
    }
    assert.equal(metrics.horizon_steps, 5);
    assert.equal((metrics.loss_history as number[]).length, 3);
    assert.equal(metrics.loss_mean, (metrics.loss_history as number[])[2]);
    assert.equal(metrics.heldout_first_seed, 2 ** 30);
    assert.ok((metrics.n_examples as number) > 12);
    assert.equal(metrics.num_steps, 3 * Math.ceil((metrics.n_examples as number) / 64));
    const planner = await loadSftPlanner(join(outDir, "model.pt"), { horizon: 5, obsDim: 11 });
    assert.equal(planner.hidden, 8);
    // The file's planner is the one that was evaluated.
    const again = plannerSummary(resolveEnvConfig(config.env as Partial<EnvConfig>), planner, {
      count: 6,
    });
    assert.equal(again.ade_mean, metrics.ade_mean);
    assert.equal(again.success_rate, metrics.success_rate);

    // A second run into the same folder is refused and changes nothing...
    const before = snapshot(outDir);
    const refused = await runSftCli([...TINY_SFT_FLAGS, "--out-dir", outDir, "--quiet"]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, /^error: --out-dir .* already holds a run .*--overwrite/);
    assert.deepEqual(snapshot(outDir), before);
    // ... unless --overwrite, and the same seed gives the same model, byte for byte.
    const redo = await runSftCli([
      ...TINY_SFT_FLAGS,
      "--out-dir",
      outDir,
      "--quiet",
      "--overwrite",
    ]);
    assert.equal(redo.code, 0, redo.stderr);
    assert.equal(redo.stderr, "");
    assert.deepEqual(
      Deno.readFileSync(join(outDir, "model.pt")),
      before.get(join(outDir, "model.pt"))!.bytes,
    );
  }, SFT_TEMP));

Deno.test("sft CLI: bad flags end with one line and exit 2, writing nothing", () =>
  withTempDir(async (dir) => {
    const outDir = join(dir, "bc");
    for (
      const [args, pattern] of [
        [["--epochs", "ten"], /^error: --epochs: expected an integer, got 'ten'$/],
        [["--bogus"], /^error: sft: unknown option '--bogus'/],
        [["--lr", "-1"], /^error: --lr: -1 is out of range/],
        [["--horizon-steps", "0"], /^error: --horizon-steps: 0 is out of range/],
        [["--waypoint-spacing", "1"], /^error: invalid configuration: env\.target_reach_radius/],
        [["--out-dir", ""], /^error: --out-dir: must not be empty$/],
      ] as Array<[string[], RegExp]>
    ) {
      const run = await runSftCli(
        args.includes("--out-dir") ? args : [...args, "--out-dir", outDir],
      );
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], pattern);
    }
    assert.throws(() => Deno.statSync(outDir), Deno.errors.NotFound);
    const help = await runSftCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: delta-waypoint sft/);
    assert.match(help.stdout, /--hidden-dim N +width of the MLP's hidden layer \(default 16\)/);
  }, SFT_TEMP));
