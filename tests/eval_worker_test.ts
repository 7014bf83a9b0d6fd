/**
 * Held-out evaluations on both cores (`train --eval-worker`): the planner and model specs
 * rebuild what they describe, the Worker's half of an evaluation (and a whole pipelined
 * one) gives the one-thread result bit for bit, a Worker that cannot start or fails
 * costs nothing but time, the pipelined loop makes the entries, checkpoints and best.pt
 * the plain loop makes, and the CLI writes the same run with and without the flag.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import {
  DEFAULT_ENV_CONFIG,
  defaultSettings,
  Driving,
  DRIVING_ENV,
  EpisodeStatistics,
  Traffic,
  TRAFFIC_ENV,
  TRAFFIC_ENV_DEFAULTS,
  ZPrefixPlanner,
} from "../src/env/mod.ts";
import type { VecEnv } from "../src/env/mod.ts";
import {
  MlpPlanner,
  mlpSpec,
  plannerFromSpec,
  plannerSpec,
  withSpec,
  ZeroPlanner,
} from "../src/sft/mod.ts";
import { BuiltinSftPlanner } from "../src/env/mod.ts";
import {
  captureCheckpoint,
  evaluatePolicy,
  modelFromSpec,
  modelSpec,
  namedPlanner,
  ParallelEvaluator,
  PipelinedEvaluation,
  progressLine,
  RunLog,
  sftBaseline,
  trainerCheckpoint,
  trainLoop,
} from "../src/run/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../src/sft/mod.ts";
import type { EvalResult, EvaluateOptions, LoopHooks } from "../src/run/mod.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/ppo/mod.ts";
import type { PpoConfig } from "../src/ppo/mod.ts";
import { ptToJson, readPt } from "../src/io/mod.ts";
import type { PtDict } from "../src/io/mod.ts";
import { mainInProcess, readJson, ROOT, SMOKE_ENV, SMOKE_FLAGS, withTempDir } from "./_helpers.ts";

const env = { ...DEFAULT_ENV_CONFIG };
const settings = { env: { ...env } };
// the driving env's SFT planner, made by its registry entry (so it has a spec)
const sftPlanner = () => namedPlanner("sft", { definition: DRIVING_ENV, settings })!;

function plans(planner: BasePlanner, obsDim: number, rows: number): Float64Array {
  const rng = new Rng(3);
  const obs = Float64Array.from({ length: rows * obsDim }, () => 10 * rng.uniform() - 5);
  const out = new Float64Array(rows * planner.actionDim);
  planner.plan(obs, rows, out);
  return out;
}

Deno.test("a planner rebuilt from its spec plans bit for bit as the original; others have no spec", () => {
  const obsDim = 1 + 2 * env.horizon_steps;
  const mlp = new MlpPlanner({
    inDim: obsDim,
    hidden: 12,
    horizon: env.horizon_steps,
    rng: new Rng(9),
  });
  const driving = { definition: DRIVING_ENV, settings: defaultSettings(DRIVING_ENV) };
  const traffic = { definition: TRAFFIC_ENV, settings: defaultSettings(TRAFFIC_ENV) };
  const trafficObs =
    new EpisodeStatistics(new Traffic(TRAFFIC_ENV_DEFAULTS, 1), { autoReset: true }).obsDim;
  const trafficMlp = new MlpPlanner({ inDim: 9, hidden: 5, horizon: 4, rng: new Rng(2) });
  const wrapped = withSpec(TRAFFIC_ENV.plannerFile!.wrap!(trafficMlp, traffic.settings), {
    kind: "file",
    inner: mlpSpec(trafficMlp),
  });
  const cases: Array<[BasePlanner, number, typeof driving]> = [
    [namedPlanner("sft", driving)!, obsDim, driving],
    [namedPlanner("expert", traffic)!, trafficObs, traffic],
    [mlp, obsDim, driving],
    [new ZeroPlanner({ obsDim, actionDim: 2 * env.horizon_steps }), obsDim, driving],
    [wrapped, trafficObs, traffic],
  ];
  for (const [planner, dim, where] of cases) {
    const spec = plannerSpec(planner);
    assert.ok(spec !== null, planner.constructor.name);
    // through a structured clone, as a Worker gets it
    const rebuilt = plannerFromSpec(structuredClone(spec), where);
    assert.equal(rebuilt.constructor, planner.constructor);
    assert.deepEqual(plans(rebuilt, dim, 7), plans(planner, dim, 7));
  }
  class Shifted extends BuiltinSftPlanner {}
  assert.equal(plannerSpec(new Shifted(env)), null);
  assert.equal(plannerSpec(new BuiltinSftPlanner(env)), null, "made outside the registry");
  assert.equal(plannerSpec(new ZPrefixPlanner(new Shifted(env), { obsDim: trafficObs })), null);
  assert.equal(plannerSpec({ obsDim: 1, actionDim: 1, plan: () => {} }), null);
});

Deno.test("a model rebuilt from its spec acts bit for bit as the original, and is a copy", () => {
  const model = new ActorCritic({
    inDim: 41,
    hidden: 16,
    horizon: 20,
    rng: new Rng(4),
    inputScale: new Float64Array(41).fill(4),
    valueScale: 8,
  });
  const spec = modelSpec(model);
  const rebuilt = modelFromSpec(structuredClone(spec));
  const obs = Float64Array.from({ length: 3 * 41 }, (_, i) => Math.sin(i));
  const act = (m: ActorCritic) => {
    const mean = new Float64Array(3 * 40), value = new Float64Array(3);
    m.act(obs, 3, mean, value);
    return [mean, value];
  };
  assert.deepEqual(act(rebuilt), act(model));
  model.delta.view("net.4.bias")[0] += 1;
  assert.notDeepEqual(act(rebuilt), act(model), "the spec holds a copy of the weights");
  // filling a model of the same sizes reuses it
  assert.equal(modelFromSpec(modelSpec(model), rebuilt), rebuilt);
  assert.deepEqual(act(rebuilt), act(model));
  assert.throws(() => modelFromSpec({ ...spec, delta: spec.delta.subarray(1) }), /delta weights/);
});

// A driving evaluator whose Worker has loaded (bounded wait: it loads in well under 30 s).
async function readyEvaluator(
  makeEnv: (n: number) => VecEnv,
  planner: BasePlanner | WaypointPlanner,
): Promise<ParallelEvaluator> {
  const evaluator = new ParallelEvaluator({
    env: { id: "driving", module: null, settings },
    makeEnv,
    planner,
  });
  for (let i = 0; i < 3000 && !evaluator.ready; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(evaluator.ready, "the Worker did not load");
  return evaluator;
}

Deno.test("the Worker's half of an evaluation, and a whole started one, give the one-thread result", async () => {
  const makeEnv = (n: number) => new Driving(env, n);
  const planner = sftPlanner();
  const model = new ActorCritic({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(8) });
  model.delta.view("net.4.bias").fill(0.3); // a delta that changes the drive
  const evaluator = await readyEvaluator(makeEnv, planner);
  try {
    const opts: EvaluateOptions = {
      planner,
      model,
      deltaClip: 2,
      firstSeed: 2 ** 30,
      count: 15,
      makeEnv,
    };
    const alone = evaluatePolicy(opts);
    const split = await evaluator.evaluate(opts, { shouldStop: () => false });
    assert.deepEqual(split, alone);
    assert.equal(evaluator.workerEpisodes, 7);
    // started, then the model trains on: the result is that of the weights at the start
    const started = evaluator.start(opts);
    model.delta.view("net.4.bias").fill(-0.5);
    assert.deepEqual(await started, alone);
    assert.equal(evaluator.workerEpisodes, 22);
    // without a model
    const sft = { ...opts, model: null };
    assert.deepEqual(
      await evaluator.evaluate(sft, { shouldStop: () => false }),
      evaluatePolicy(sft),
    );
    // another planner or env factory, or sampled deltas, run on this thread
    const other = { ...opts, planner: new BuiltinSftPlanner(env, { lateralOffset: 1 }) };
    assert.deepEqual(await evaluator.start(other), evaluatePolicy(other));
    assert.equal(evaluator.workerEpisodes, 22 + 7);
    assert.equal(evaluator.failure, null);
  } finally {
    evaluator.close();
  }
});

Deno.test("a Worker that cannot start, or fails, leaves every evaluation to this thread", async () => {
  const makeEnv = (n: number) => new Driving(env, n);
  const planner = sftPlanner();
  const opts: EvaluateOptions = {
    planner,
    model: null,
    deltaClip: 2,
    firstSeed: 7,
    count: 6,
    makeEnv,
  };
  const alone = evaluatePolicy(opts);
  // a planner without a spec: no Worker at all
  class Own extends BuiltinSftPlanner {}
  const own = new Own(env);
  const none = new ParallelEvaluator({
    env: { id: "driving", module: null, settings },
    makeEnv,
    planner: own,
  });
  assert.equal(none.ready, false);
  assert.match(none.failure!, /^the base planner \(Own\) cannot be rebuilt there$/);
  assert.deepEqual(
    await none.start({ ...opts, planner: own }),
    evaluatePolicy({ ...opts, planner: own }),
  );
  none.close();
  // a Worker module that throws while loading
  const broken = new ParallelEvaluator({
    env: { id: "driving", module: null, settings },
    makeEnv,
    planner,
    workerUrl: "data:application/javascript,throw new Error('broken worker')",
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(broken.ready, false);
    assert.deepEqual(await broken.evaluate(opts, { shouldStop: () => false }), alone);
    assert.deepEqual(await broken.start(opts), alone);
    assert.equal(broken.workerEpisodes, 0);
    assert.match(broken.failure!, /broken worker/);
  } finally {
    broken.close();
  }
});

const PPO: PpoConfig = {
  ...DEFAULT_PPO_CONFIG,
  encoder_out_dim: 1 + 2 * SMOKE_ENV.horizon_steps,
  horizon_steps: SMOKE_ENV.horizon_steps,
  hidden_dim: 16,
  episodes: 40,
  num_envs: 5,
  eval_interval: 5,
  save_interval: 10,
  update_epochs: 2,
  eval_episodes: 4,
};

// The loop's outputs: every metrics entry, each checkpoint and each best.pt it would write.
async function loopRun(
  pipelined: "no" | "late" | "never",
  stopAt?: number,
): Promise<{ log: RunLog; files: unknown[] }> {
  const e = { ...SMOKE_ENV };
  const trainer = new Trainer({
    env: e,
    ppo: { ...PPO },
    planner: new BuiltinSftPlanner(e),
    makeEnv: (n) => new Driving(e, n),
  });
  const log = new RunLog();
  const files: unknown[] = [];
  const json = (pt: PtDict) => {
    const j = ptToJson(pt) as Record<string, unknown>;
    j.metrics = (j.metrics as Record<string, unknown>[]).map((m) => ({ ...m, timestamp: null }));
    return j;
  };
  // "late": each evaluation resolves a few event-loop turns later, so training runs on
  const late = (opts: EvaluateOptions): Promise<EvalResult> => {
    const result = evaluatePolicy({ ...opts, model: modelFromSpec(modelSpec(opts.model!)) });
    return new Promise((r) => setTimeout(() => r(result), 5));
  };
  const hooks: LoopHooks = {
    sft: sftBaseline(trainer),
    onMetrics: () => Promise.resolve(),
    onBest: (t, best, captured) => {
      const pt = captured === undefined ? trainerCheckpoint(t, { log }) : captured(log);
      files.push({ best: best.episode, pt: json(pt) });
      return Promise.resolve();
    },
    onCheckpoint: (t, ep) => {
      files.push({ checkpoint: ep, pt: json(trainerCheckpoint(t, { log })) });
      return Promise.resolve();
    },
    shouldStop: () => stopAt !== undefined && trainer.episode >= stopAt,
    ...(pipelined === "no" ? {} : {
      evaluation: new PipelinedEvaluation({
        start: pipelined === "late" ? late : (o) => Promise.resolve(evaluatePolicy(o)),
        capture: (t) => captureCheckpoint(t),
      }),
    }),
  };
  await trainLoop(trainer, log, hooks);
  files.push({ final: json(trainerCheckpoint(trainer, { log })) });
  return { log, files };
}

Deno.test("pipelined evaluations make the entries, checkpoints and best.pt of the plain loop", async () => {
  const strip = (log: RunLog) => log.state().metrics.map((m) => ({ ...m, timestamp: null }));
  const plain = await loopRun("no");
  assert.equal(plain.log.metrics.length, 8);
  for (const mode of ["late", "never"] as const) {
    const piped = await loopRun(mode);
    assert.deepEqual(strip(piped.log), strip(plain.log), mode);
    assert.deepEqual(piped.log.best, plain.log.best, mode);
    assert.deepEqual(piped.files, plain.files, mode);
  }
  // a stop waits for the started evaluations: the same as the plain loop stopped there
  const stoppedPlain = await loopRun("no", 15);
  const stoppedPiped = await loopRun("late", 15);
  assert.equal(stoppedPiped.log.metrics.length, 3);
  assert.deepEqual(strip(stoppedPiped.log), strip(stoppedPlain.log));
  assert.deepEqual(stoppedPiped.files, stoppedPlain.files);
});

Deno.test("train --eval-worker writes the run train writes without it", async () => {
  await withTempDir(async (dir) => {
    const flags = [
      ...SMOKE_FLAGS.filter((f) => f !== "--quiet"),
      "--episodes",
      "30",
      "--quiet",
    ];
    const a = join(dir, "plain"), b = join(dir, "worker");
    assert.equal((await mainInProcess(["train", ...flags, "--out-dir", a])).code, 0);
    assert.equal(
      (await mainInProcess(["train", ...flags, "--out-dir", b, "--eval-worker"])).code,
      0,
    );
    const noTimes = (x: unknown): unknown =>
      Array.isArray(x) ? x.map(noTimes) : x !== null && typeof x === "object"
        ? Object.fromEntries(
          Object.entries(x).filter(([k]) => k !== "timestamp").map(([k, v]) => [k, noTimes(v)]),
        )
        : x;
    assert.deepEqual(
      noTimes(readJson(join(b, "metrics.json"))),
      noTimes(readJson(join(a, "metrics.json"))),
    );
    const heldout = (d: string) =>
      (readJson(join(d, "train_metrics.json")) as { heldout: unknown }).heldout;
    assert.deepEqual(heldout(b), heldout(a));
    // progress.csv too (its entries' steps and learning rates are taken when each is made)
    const progress = (d: string) => {
      const [header, ...rows] = Deno.readTextFileSync(join(d, "progress.csv")).trimEnd()
        .split("\n").map((line) => line.split(","));
      const fps = header.indexOf("time/fps");
      return [header, ...rows.map((r) => r.filter((_, i) => i !== fps))];
    };
    assert.deepEqual(progress(b), progress(a));
    for (
      const f of [
        "final.pt",
        "best.pt",
        "checkpoints/checkpoint_10.pt",
        "checkpoints/checkpoint_30.pt",
      ]
    ) {
      assert.deepEqual(
        noTimes(ptToJson(await readPt(join(b, f)))),
        noTimes(ptToJson(await readPt(join(a, f)))),
        f,
      );
    }
  });
});

Deno.test("train --eval-worker without read access to the Worker's module says so in one line and trains on", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "run");
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        join(ROOT, "main.ts"),
        "train",
        ...SMOKE_FLAGS,
        "--out-dir",
        out,
        "--eval-worker",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(stderr).trimEnd().split("\n");
    assert.equal(code, 0, lines.join("\n"));
    assert.deepEqual(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^train: --eval-worker: no read access to .*_eval_worker\.ts; the evaluations ran on the training thread$/,
    );
    assert.ok(Deno.statSync(join(out, "final.pt")).isFile);
  });
});

Deno.test("a progress line for a metrics entry names the entry's episode, not the trainer's", () => {
  const e = { ...SMOKE_ENV };
  const trainer = new Trainer({
    env: e,
    ppo: { ...PPO },
    planner: new BuiltinSftPlanner(e),
    makeEnv: (n) => new Driving(e, n),
  });
  const log = new RunLog();
  const last = trainer.iterate(5);
  log.record(last);
  const entry = log.entry(last, { heldout: { return_mean: 1.5 }, sft_heldout: { return_mean: 0 } });
  log.record(trainer.iterate(5)); // training went on before the entry was made
  const opts = { log, meanReward: 0, successRate: 0, t0: performance.now(), startEpisode: 0 };
  assert.match(progressLine(trainer, { ...opts, entry }), /^episode 5\/40 .* eval 1\.50 /);
  assert.match(progressLine(trainer, opts), /^episode 10\/40 /);
});
