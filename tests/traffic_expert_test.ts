/**
 * The traffic expert as a corrector of the base plan (`TrafficExpertPlanner.correct`):
 * nothing in the way leaves the base plan as it is; a stopped vehicle is cleared from the
 * base plan by a wider margin than the expert keeps from the route, and not at all when
 * the base plan already passes it; a vehicle it cannot get around pulls the base plan in
 * as far as the expert's; driving the corrected SFT plans stops the car behind it, and where
 * the expert stops, the correction asks for a plan 2 m behind the car, so that a follower
 * falling 10% short of it still stops. A warm
 * start labels with `correct` when the expert has it. The expert's two IDM keys reach
 * config.json and final.pt, and a headway of 0 is refused; `eval` beside the SFT planner says
 * the policy's |delta| on the episodes the SFT planner alone succeeds in.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  canCorrect,
  DEFAULT_TRAFFIC_CONFIG,
  EpisodeStatistics,
  SCENARIO_FORMAT,
  Traffic,
  TRAFFIC_ENV_DEFAULTS,
  TrafficExpertPlanner,
} from "../src/env/mod.ts";
import type { BasePlanner, CorrectingPlanner, Scenario } from "../src/env/mod.ts";
import { BuiltinSftPlanner, TRAFFIC_SFT_OPTIONS, ZPrefixPlanner } from "../src/env/mod.ts";
import { Trainer } from "../src/ppo/mod.ts";
import { warmStart } from "../src/run/warm_start.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import { RecordingEnv, WALK_PPO } from "./_walk_env.ts";
import { ptLeaves, readJson, runCli, withTempDir } from "./_helpers.ts";

const H = TRAFFIC_ENV_DEFAULTS.horizon_steps;

// A straight route along +x at y = 50, the ego at its start at 8 m/s, and one stopped
// vehicle (4 m by 2 m) at (x, y).
function oneStopped(x: number, y: number): Scenario {
  const xs = Array.from({ length: 121 }, (_, i) => 10 + i * 0.5);
  return {
    format: SCENARIO_FORMAT,
    version: 1,
    id: "one stopped",
    route: { x: xs, y: xs.map(() => 50) },
    ego: { x: 10, y: 50, yaw: 0, speed: 8 },
    vehicles: [{
      id: "stopped",
      length: 4,
      width: 2,
      mode: "replay",
      trajectory: [{ t: 0, x, y, yaw: 0, speed: 0 }],
    }],
  };
}

// The first observation of `scenario` (the car at (10, 50), heading +x).
function firstObs(scenario: Scenario): Float64Array {
  const env = new Traffic(TRAFFIC_ENV_DEFAULTS, 1, { scenarios: [scenario] });
  env.reset([0]);
  return env.obs.slice();
}

// The route targets of `obs` moved `dy` metres sideways (left positive): a base plan.
function beside(obs: Float64Array, dy: number): Float64Array {
  const plan = new Float64Array(2 * H);
  for (let j = 0; j < H; j++) {
    plan[2 * j] = obs[1 + 2 * j];
    plan[2 * j + 1] = obs[2 + 2 * j] + dy;
  }
  return plan;
}

// how far forward a plan reaches (its largest x): what sets the speed the car aims for
const reachOf = (plan: Float64Array) =>
  Math.max(...Array.from({ length: H }, (_, j) => plan[2 * j]));

// Drives the SFT planner's plans (blind to the vehicles) corrected by `corrector`, only a
// `share` of each correction taken, for 60 steps of `scenario`: the step of the collision
// (-1: none) and the speed at the end.
function driveCorrected(corrector: TrafficExpertPlanner, scenario: Scenario, share: number) {
  const venv = new EpisodeStatistics(
    new Traffic(TRAFFIC_ENV_DEFAULTS, 1, { scenarios: [scenario] }),
  );
  venv.reset([0]);
  const sft = new ZPrefixPlanner(new BuiltinSftPlanner(TRAFFIC_ENV_DEFAULTS, TRAFFIC_SFT_OPTIONS), {
    obsDim: venv.obsDim,
  });
  const plan = new Float64Array(2 * H), fixed = new Float64Array(2 * H);
  for (let t = 0; t < 60; t++) {
    sft.plan(venv.obs, 1, plan);
    corrector.correct(venv.obs, plan, 1, fixed);
    if (share !== 1) {
      for (let j = 0; j < 2 * H; j++) fixed[j] = plan[j] + share * (fixed[j] - plan[j]);
    }
    venv.step(fixed);
    if (venv.terminated[0] === 1) return { collidedAt: t, speed: venv.obs[0] };
  }
  return { collidedAt: -1, speed: venv.obs[0] };
}

const expert = new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, DEFAULT_TRAFFIC_CONFIG);
// the clearance the expert keeps from a stopped vehicle's centre line: its half width, the
// ego's and 0.5 m; 0.7 m when it corrects a base plan
const CLEAR = 1 + 0.5 * DEFAULT_TRAFFIC_CONFIG.ego_width + 0.5;
const BASE_CLEAR = CLEAR + 0.2;

Deno.test("correct: with nothing in its way the base plan stays as it is, to the bit", () => {
  const obs = firstObs(oneStopped(40, 57)); // 7 m beside the route
  const base = beside(obs, -0.3);
  base[5] += 0.7; // a kink: whatever the base plans
  const out = new Float64Array(2 * H);
  expert.correct(obs, base, 1, out);
  assert.deepEqual([...out], [...base]);
  expert.plan(obs, 1, out);
  assert.deepEqual([...out], [...beside(obs, 0)], "the expert plans the route targets");
});

Deno.test("correct: around a stopped vehicle the base plan moves clear of it by its margin, or not at all", () => {
  // the vehicle's centre 1.9 m left of the route; the expert plans CLEAR m right of it
  const obs = firstObs(oneStopped(40, 51.9));
  const out = new Float64Array(2 * H);
  expert.plan(obs, 1, out);
  for (let j = 0; j < H; j++) assert.ok(Math.abs(out[2 * j + 1] - (1.9 - CLEAR)) < 1e-9);

  // base plans 0.3 m left of the route and 0.6 m right of it (2.5 m from the vehicle's
  // centre: beside it by the expert's margin for a moving vehicle, not by the correction's
  // for a stopped one): both move right along their normals to BASE_CLEAR m from it (the
  // first segment slants from the car, so its waypoint moves a little less sideways)
  for (const dy of [0.3, -0.6]) {
    const base = beside(obs, dy);
    expert.correct(obs, base, 1, out);
    for (let j = 0; j < H; j++) {
      const y = out[2 * j + 1];
      const near = Math.abs(y - (1.9 - BASE_CLEAR)) < (j === 0 ? 0.01 : 1e-9);
      assert.ok(near, `base ${dy} m: waypoint ${j} at y = ${y}`);
      assert.ok(Math.abs(out[2 * j] - base[2 * j]) < 0.15, `waypoint ${j} at x = ${out[2 * j]}`);
    }
  }

  // a base plan 1 m right of the route is 2.9 m from the vehicle's centre: beside it with
  // room to spare, so it stays (the expert would still move it to its own line)
  const right = beside(obs, -1);
  expert.correct(obs, right, 1, out);
  assert.deepEqual([...out], [...right]);
});

Deno.test("correct: behind a vehicle it cannot get around, the base plan is pulled in as far as the expert's; the car stops", () => {
  const scenario = oneStopped(30, 50); // dead ahead: no room on either side
  const obs = firstObs(scenario);
  const ex = new Float64Array(2 * H), out = new Float64Array(2 * H);
  expert.plan(obs, 1, ex);
  const base = beside(obs, 0.3);
  expert.correct(obs, base, 1, out);
  assert.ok(reachOf(ex) < reachOf(base) - 1, `the expert pulls in: reach ${reachOf(ex)}`);
  // on a straight road the two plans' arc lengths differ only by the first segment's slant
  assert.ok(Math.abs(reachOf(out) - reachOf(ex)) < 0.02, `reach ${reachOf(out)} vs ${reachOf(ex)}`);
  for (let j = 0; j < H; j++) {
    if (base[2 * j] <= reachOf(out)) assert.equal(out[2 * j], base[2 * j], `waypoint ${j} kept`);
  }

  // driving the corrected plans of the SFT planner (blind to the vehicle): it stops behind
  const driven = driveCorrected(expert, scenario, 1);
  assert.equal(driven.collidedAt, -1, "no collision");
  assert.ok(driven.speed < 0.5, `stopped: speed ${driven.speed}`);
});

Deno.test("warm start: an expert that can correct the base plan labels with its correction, not its plan", async () => {
  // base: zero; the expert plans 3, and corrects any base plan b to b + 1
  const corrector: CorrectingPlanner = {
    obsDim: 2,
    actionDim: 1,
    plan: (_obs, rows, out) => out.fill(3, 0, rows),
    correct: (_obs, base, rows, out) => {
      for (let i = 0; i < rows; i++) out[i] = base[i] + 1;
    },
  };
  assert.ok(canCorrect(corrector));
  const { correct: _, ...planOnly } = corrector;
  assert.ok(!canCorrect(planOnly));
  const fitted = async (teacher: BasePlanner) => {
    const trainer = new Trainer({
      env: TRAFFIC_ENV_DEFAULTS,
      ppo: {
        ...WALK_PPO,
        delta_clip: 5,
        warm_start_rounds: 1,
        warm_start_episodes: 30,
        warm_start_epochs: 400,
      },
      planner: new ZeroPlanner({ obsDim: 2, actionDim: 1 }),
      makeEnv: (n) => new RecordingEnv(n),
    });
    await warmStart(trainer, {
      expert: teacher,
      makeEnv: (n) => new RecordingEnv(n),
      log: () => {},
    });
    const mean = new Float64Array(2);
    trainer.model.actMean(new Float64Array([0.5, 1, -0.5, 0.2]), 2, mean);
    return [...mean];
  };
  for (const m of await fitted(corrector)) assert.ok(Math.abs(m - 1) < 0.2, `mean ${m}, label 1`);
  for (const m of await fitted(planOnly)) assert.ok(Math.abs(m - 3) < 0.4, `mean ${m}, label 3`);
});

Deno.test("expert_headway and expert_min_gap: a shorter headway and gap brake later (a longer plan behind the same vehicle)", () => {
  const obs = firstObs(oneStopped(30, 50));
  const reach = (keys: Partial<typeof DEFAULT_TRAFFIC_CONFIG>) => {
    const out = new Float64Array(2 * H);
    const traffic = { ...DEFAULT_TRAFFIC_CONFIG, expert_headway: 1, expert_min_gap: 2.5, ...keys };
    new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, traffic).correct(obs, beside(obs, 0), 1, out);
    return reachOf(out);
  };
  const standard = reach({});
  const shorter = reach({ expert_headway: 0.4 });
  const closer = reach({ expert_min_gap: 1 });
  assert.ok(shorter > standard + 0.1, `reach ${shorter} vs ${standard}`);
  assert.ok(closer > standard + 0.1, `reach ${closer} vs ${standard}`);
  assert.equal(reach({ expert_headway: 0.4, expert_min_gap: 1 }), reach(DEFAULT_TRAFFIC_CONFIG));
});

Deno.test("correct: where the expert stops, the base plan goes expert_stop_behind (2 m) behind the car, and a follower that pulls in 90% of the way still stops; at the car it collides", () => {
  // the car at 2 m/s, about 1 m behind a vehicle stopped dead ahead: the expert stops
  const scenario = oneStopped(15.5, 50);
  scenario.ego.speed = 2;
  const obs = firstObs(scenario);
  const ex = new Float64Array(2 * H), out = new Float64Array(2 * H);
  expert.plan(obs, 1, ex);
  assert.ok(reachOf(ex) <= 0, `the expert's own plan stops at the car: reach ${reachOf(ex)}`);
  expert.correct(obs, beside(obs, 0.3), 1, out);
  assert.deepEqual([...out], Array.from({ length: 2 * H }, (_, i) => i % 2 === 0 ? -2 : 0));
  const atCar = new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, {
    ...DEFAULT_TRAFFIC_CONFIG,
    expert_stop_behind: 0,
  });
  atCar.correct(obs, beside(obs, 0.3), 1, out);
  assert.deepEqual(
    [...out],
    [...ex],
    "with 0 the correction stops at the car, as the expert's plan",
  );

  // SFT + 0.9 (correction - SFT) behind a vehicle stopped dead ahead: the delta falls 10%
  // short everywhere; stopping at the car, the plan's last 10% (about 1 m of reach) creeps on
  // at sqrt(6 m/s^2 * 1 m) = 2.4 m/s
  const behind = driveCorrected(expert, oneStopped(40, 50), 0.9);
  assert.equal(behind.collidedAt, -1, "no collision");
  assert.ok(behind.speed < 0.5, `stopped: speed ${behind.speed}`);
  assert.ok(
    driveCorrected(atCar, oneStopped(40, 50), 0.9).collidedAt > 0,
    "stopping at the car, the follower creeps into it",
  );
});

Deno.test("--expert-headway, --expert-min-gap and --expert-stop-behind: recorded in config.json and final.pt, out of range refused in one line; eval says |delta| where sft alone succeeds", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const flags = ["train", "--env", "traffic", "--episodes", "20", "--eval-interval", "20"];
    const small = ["--heldout-episodes", "4", "--warm-start-rounds", "0", "--quiet"];
    const r = await runCli([
      ...flags,
      ...small,
      "--expert-headway",
      "0.5",
      "--expert-min-gap",
      "1.5",
      "--expert-stop-behind",
      "3",
      "--out-dir",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const config = readJson(join(out, "config.json")) as { traffic: Record<string, unknown> };
    assert.equal(config.traffic.expert_headway, 0.5);
    assert.equal(config.traffic.expert_min_gap, 1.5);
    assert.equal(config.traffic.expert_stop_behind, 3);
    const leaves = await ptLeaves(join(out, "final.pt"));
    assert.equal(leaves.get(".traffic_cfg.expert_headway"), 0.5);
    assert.equal(leaves.get(".traffic_cfg.expert_min_gap"), 1.5);
    assert.equal(leaves.get(".traffic_cfg.expert_stop_behind"), 3);

    // eval beside the SFT planner: the policy's |delta| where the SFT planner alone succeeds,
    // the mean over those episodes of --output's mean_delta_norm
    const json = join(dir, "eval.json");
    const policy = join(out, "final.pt");
    const ev = await runCli([
      ...["eval", "--env", "traffic", "--policy", "sft", "--policy", policy],
      ...["--episodes", "40", "--output", json],
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    type Doc = { scenarios: { success: boolean; raw: { mean_delta_norm: number } }[] };
    const [sft, refined] = readJson(json) as Doc[];
    const ok = sft.scenarios.map((e) => e.success), n = ok.filter(Boolean).length;
    assert.ok(n > 0 && n < 40, `the SFT planner succeeds in ${n} of 40`);
    const want = refined.scenarios.reduce((t, e, i) => t + (ok[i] ? e.raw.mean_delta_norm : 0), 0);
    assert.ok(
      ev.stdout.includes(`|delta| where sft alone succeeds (${n} of 40 episodes):`),
      ev.stdout,
    );
    assert.ok(ev.stdout.includes(`${policy}: ${(want / n).toFixed(3)} m`), ev.stdout);

    const bad = join(dir, "bad");
    const refused = await runCli([...flags, ...small, "--expert-headway", "0", "--out-dir", bad]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /expert.headway/);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.ok(!existsSync(bad), "nothing written");
    const back = await runCli([...flags, ...small, "--expert-stop-behind", "-1", "--out-dir", bad]);
    assert.equal(back.code, 2);
    assert.match(back.stderr, /expert.stop.behind/);
    assert.equal(back.stderr.trim().split("\n").length, 1, back.stderr);
    assert.ok(!existsSync(bad), "nothing written");
  }));
