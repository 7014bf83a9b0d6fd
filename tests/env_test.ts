import assert from "node:assert/strict";
import {
  actionDim,
  DEFAULT_ENV_CONFIG,
  Driving,
  DrivingEnv,
  type EnvConfig,
  EpisodeStatistics,
  obsDim,
  resolveEnvConfig,
  Route,
  validateEnvConfig,
} from "../src/env/mod.ts";
import { type WaypointPlanner } from "../src/sft/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner } from "../src/env/mod.ts";
import { plannerSummary, SMOKE_ENV } from "./_helpers.ts";

const CFG: EnvConfig = { ...DEFAULT_ENV_CONFIG };

interface Trace {
  obs: Float64Array[];
  rewards: number[];
  terminated: boolean;
  truncated: boolean;
  success: boolean;
  offRoute: boolean;
}

/** Drives one episode of `seed` with `planner` (or a fixed plan) and records every step. */
function drive(cfg: EnvConfig, seed: number, planner: WaypointPlanner | Float64Array): Trace {
  const env = new DrivingEnv(cfg);
  let { obs } = env.reset(seed);
  const trace: Trace = {
    obs: [obs],
    rewards: [],
    terminated: false,
    truncated: false,
    success: false,
    offRoute: false,
  };
  const plan = new Float64Array(actionDim(cfg));
  for (;;) {
    if (planner instanceof Float64Array) plan.set(planner);
    else planner.plan(obs, 1, plan);
    const step = env.step(plan);
    obs = step.obs;
    trace.obs.push(obs);
    trace.rewards.push(step.reward);
    if (step.terminated || step.truncated) {
      trace.terminated = step.terminated;
      trace.truncated = step.truncated;
      trace.success = step.info.success;
      trace.offRoute = step.info.offRoute;
      return trace;
    }
  }
}

Deno.test("obsDim and actionDim follow H", () => {
  assert.equal(obsDim(CFG), 41);
  assert.equal(actionDim(CFG), 40);
  assert.equal(obsDim(SMOKE_ENV), 11);
  assert.equal(actionDim(SMOKE_ENV), 10);
});

Deno.test("validateEnvConfig accepts the defaults and the smoke settings", () => {
  validateEnvConfig({ ...DEFAULT_ENV_CONFIG });
  validateEnvConfig(SMOKE_ENV);
  assert.deepEqual(resolveEnvConfig({ horizon_steps: 5 }), {
    ...DEFAULT_ENV_CONFIG,
    horizon_steps: 5,
  });
});

Deno.test("validateEnvConfig rejects bad values naming the key", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ horizon_steps: 0 }, "horizon_steps"],
    [{ horizon_steps: 2.5 }, "horizon_steps"],
    [{ max_episode_steps: -1 }, "max_episode_steps"],
    [{ world_size: Number.NaN }, "world_size"],
    [{ world_size: 8 }, "world_size"],
    [{ dt: 0 }, "dt"],
    [{ waypoint_spacing: "4" }, "waypoint_spacing"],
    [{ time_weight: -0.1 }, "time_weight"],
    [{ max_turn_radius: 5 }, "max_turn_radius"],
    [{ cruise_speed: 30 }, "cruise_speed"],
    [{ target_reach_radius: 4 }, "target_reach_radius"],
    [{ max_steer: 2 }, "max_steer"],
    [{ wheel_base: 2 }, "wheel_base"],
  ];
  for (const [override, key] of bad) {
    const cfg = { ...DEFAULT_ENV_CONFIG, ...override } as unknown as EnvConfig;
    assert.throws(() => validateEnvConfig(cfg), (err: unknown) => {
      assert.ok(err instanceof RangeError, `${key}: expected a RangeError`);
      assert.match(err.message, new RegExp(`\\b${key}\\b`));
      return true;
    });
  }
  const missing: Record<string, unknown> = { ...DEFAULT_ENV_CONFIG };
  delete missing.goal_weight;
  assert.throws(() => validateEnvConfig(missing as unknown as EnvConfig), /goal_weight/);
  assert.throws(() => new DrivingEnv({ ...CFG, corridor_half_width: -1 }), /corridor_half_width/);
});

Deno.test("same seed gives the same route and trajectory; different seeds differ", () => {
  const sft = new BuiltinSftPlanner(CFG);
  const a = drive(CFG, 11, sft);
  const b = drive(CFG, 11, sft);
  assert.deepEqual(a.rewards, b.rewards);
  assert.deepEqual(a.obs, b.obs);
  const c = drive(CFG, 12, sft);
  assert.notDeepEqual(a.obs[0], c.obs[0]);
  assert.notDeepEqual(a.rewards, c.rewards);

  const r1 = new Route(CFG), r2 = new Route(CFG);
  r1.generate(5);
  r2.generate(5);
  assert.deepEqual(r1.xs.subarray(0, r1.numPoints), r2.xs.subarray(0, r2.numPoints));
  assert.deepEqual(r1.ys.subarray(0, r1.numPoints), r2.ys.subarray(0, r2.numPoints));
  r2.generate(6);
  assert.notDeepEqual(r1.xs.subarray(0, r1.numPoints), r2.xs.subarray(0, r2.numPoints));
  // Regenerating after another seed restores the route exactly (no leftover state).
  const xs5 = r1.xs.slice(0, r1.numPoints);
  r1.generate(6);
  r1.generate(5);
  assert.deepEqual(r1.xs.subarray(0, r1.numPoints), xs5);
  // The same seed again keeps the route held (evaluations restart their seeds): the same
  // route as a fresh one's
  r1.generate(5);
  const fresh = new Route(CFG);
  fresh.generate(5);
  for (const key of ["numPoints", "numTargets", "startHeading"] as const) {
    assert.equal(r1[key], fresh[key]);
  }
  for (const key of ["xs", "ys", "s"] as const) {
    assert.deepEqual(r1[key].subarray(0, r1.numPoints), fresh[key].subarray(0, fresh.numPoints));
  }
});

Deno.test("reset without a seed continues from the previous seed", () => {
  const env = new DrivingEnv(CFG);
  const first = env.reset();
  assert.equal(env.seed, 0);
  assert.deepEqual(first.obs, new DrivingEnv(CFG).reset(0).obs);
  env.reset(41);
  const next = env.reset();
  assert.equal(env.seed, 42);
  assert.deepEqual(next.obs, new DrivingEnv(CFG).reset(42).obs);
});

Deno.test("routes stay inside the world for many seeds", () => {
  for (const cfg of [CFG, SMOKE_ENV]) {
    const route = new Route(cfg);
    const lo = cfg.corridor_half_width - 1e-9, hi = cfg.world_size - cfg.corridor_half_width + 1e-9;
    for (let seed = 0; seed < 300; seed++) {
      route.generate(seed);
      assert.ok(route.numTargets >= 1);
      assert.equal(route.numPoints, route.numTargets * route.pointsPerTarget + 1);
      for (let i = 0; i < route.numPoints; i++) {
        const x = route.xs[i], y = route.ys[i];
        assert.ok(
          x >= lo && x <= hi && y >= lo && y <= hi,
          `seed ${seed}: point ${i} (${x}, ${y})`,
        );
      }
      // Consecutive centerline samples are one resolution step apart (arc chords).
      for (let i = 1; i < route.numPoints; i++) {
        const step = Math.hypot(route.xs[i] - route.xs[i - 1], route.ys[i] - route.ys[i - 1]);
        assert.ok(Math.abs(step - route.resolution) < 0.01, `seed ${seed}: step ${step}`);
      }
    }
  }
  // The default route is never cut short in the default world.
  const route = new Route(CFG);
  for (let seed = 0; seed < 100; seed++) {
    route.generate(seed);
    assert.equal(route.numTargets, Math.round(CFG.route_length / CFG.waypoint_spacing));
  }
});

Deno.test("obs has 1 + 2H entries in the car frame", () => {
  for (const cfg of [CFG, SMOKE_ENV]) {
    const env = new DrivingEnv(cfg);
    for (let seed = 0; seed < 20; seed++) {
      const { obs, info } = env.reset(seed);
      assert.equal(obs.length, 1 + 2 * cfg.horizon_steps);
      assert.equal(obs[0], cfg.init_speed);
      assert.ok(obs[1] > 0, `seed ${seed}: first target ahead, x = ${obs[1]}`);
      assert.ok(Math.abs(Math.hypot(obs[1], obs[2]) - cfg.waypoint_spacing) < 0.1);
      assert.equal(info.success, false);
      // Rotating obs back by the heading and adding the position gives the targets.
      const [x, y, heading] = env.pose;
      const route = env.route;
      for (let j = 0; j < cfg.horizon_steps; j++) {
        const k = Math.min(j, route.numTargets - 1);
        const ox = obs[1 + 2 * j], oy = obs[2 + 2 * j];
        const wx = x + Math.cos(heading) * ox - Math.sin(heading) * oy;
        const wy = y + Math.sin(heading) * ox + Math.cos(heading) * oy;
        assert.ok(Math.abs(wx - route.targetX(k)) < 1e-9 && Math.abs(wy - route.targetY(k)) < 1e-9);
      }
    }
  }
});

Deno.test("the expert drives to the goal: terminated and success, not truncated", () => {
  const expert = new ExpertPlanner(CFG);
  for (const seed of [0, 1, 2, 3]) {
    const t = drive(CFG, seed, expert);
    assert.equal(t.terminated, true);
    assert.equal(t.truncated, false);
    assert.equal(t.success, true);
    assert.equal(t.offRoute, false);
    assert.ok(t.rewards.length < CFG.max_episode_steps);
    const total = t.rewards.reduce((s, r) => s + r, 0);
    assert.ok(total > CFG.goal_weight, `seed ${seed}: return ${total}`);
  }
});

Deno.test("a plan that steers hard off the route terminates without success", () => {
  const H = CFG.horizon_steps;
  const hardLeft = new Float64Array(2 * H);
  for (let j = 0; j < H; j++) {
    hardLeft[2 * j] = 3 + 2 * j;
    hardLeft[2 * j + 1] = 20;
  }
  const t = drive(CFG, 3, hardLeft);
  assert.equal(t.terminated, true);
  assert.equal(t.truncated, false);
  assert.equal(t.success, false);
  assert.equal(t.offRoute, true);
  assert.ok(t.rewards.at(-1)! <= -CFG.offroute_penalty);
});

Deno.test("a plan that stops the car is truncated at max_episode_steps, not terminated", () => {
  const H = CFG.horizon_steps;
  const atCar = new Float64Array(2 * H);
  const behind = new Float64Array(2 * H);
  for (let j = 0; j < H; j++) behind[2 * j] = -2 - j;
  for (const plan of [atCar, behind]) {
    const t = drive(CFG, 4, plan);
    assert.equal(t.truncated, true);
    assert.equal(t.terminated, false);
    assert.equal(t.success, false);
    assert.equal(t.rewards.length, CFG.max_episode_steps);
    assert.equal(t.obs.at(-1)![0], 0, "the car stands still");
  }
});

Deno.test("stepping after the end, a wrong plan length or a NaN plan throws", () => {
  const env = new DrivingEnv({ ...CFG, max_episode_steps: 1 });
  const plan = new Float64Array(env.actionDim);
  assert.throws(() => env.step(plan), /reset/);
  assert.throws(() => env.reset(1.5), /seed/);
  env.reset(0);
  assert.throws(() => env.step(new Float64Array(3)), RangeError);
  const nan = plan.slice();
  nan[7] = Number.NaN;
  assert.throws(() => env.step(nan), /non-finite/);
  assert.equal(env.step(plan).truncated, true);
  assert.throws(() => env.step(plan), /reset/);
});

Deno.test("zero delta reproduces the SFT drive; single env and vec env agree step by step", () => {
  const seeds = [20, 21, 22];
  const n = seeds.length, a = actionDim(CFG), d = obsDim(CFG);
  const sft = new BuiltinSftPlanner(CFG);
  const traces = seeds.map((s) => drive(CFG, s, sft));
  const venv = new EpisodeStatistics(new Driving(CFG, n), { autoReset: true });
  venv.reset(seeds);
  const sftPlans = new Float64Array(n * a);
  const delta = new Float64Array(n * a); // the delta head's output at init: zero
  const plans = new Float64Array(n * a);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(venv.obs.slice(i * d, (i + 1) * d), traces[i].obs[0]);
  }
  const finished = new Array(n).fill(false);
  for (let t = 0; finished.includes(false); t++) {
    sft.plan(venv.obs, n, sftPlans);
    for (let j = 0; j < n * a; j++) plans[j] = sftPlans[j] + delta[j];
    venv.step(plans);
    for (let i = 0; i < n; i++) {
      if (finished[i]) continue;
      const trace = traces[i];
      assert.equal(venv.rewards[i], trace.rewards[t], `env ${i} step ${t}: reward`);
      assert.deepEqual(venv.finalObs.slice(i * d, (i + 1) * d), trace.obs[t + 1]);
      const done = venv.terminated[i] === 1 || venv.truncated[i] === 1;
      assert.equal(done, t === trace.rewards.length - 1, `env ${i} step ${t}: done`);
      if (done) {
        finished[i] = true;
        assert.equal(venv.terminated[i] === 1, trace.terminated);
        assert.equal(venv.success[i] === 1, trace.success);
        assert.equal(venv.episodeLengths[i], trace.rewards.length);
        const total = trace.rewards.reduce((s, r) => s + r, 0);
        assert.ok(Math.abs(venv.episodeReturns[i] - total) < 1e-9);
      } else {
        assert.deepEqual(venv.obs.slice(i * d, (i + 1) * d), trace.obs[t + 1]);
      }
    }
  }
});

Deno.test("auto-reset: finalObs is the last obs, obs the new episode's first, seed + N", () => {
  const cfg: EnvConfig = { ...CFG, max_episode_steps: 5 };
  const n = 2, d = obsDim(cfg), a = actionDim(cfg);
  const venv = new EpisodeStatistics(new Driving(cfg, n), { autoReset: true });
  venv.reset([7, 30]);
  const expert = new ExpertPlanner(cfg);
  const plans = new Float64Array(n * a);
  // Single-env reference for env 0.
  const ref = new DrivingEnv(cfg);
  let refObs = ref.reset(7).obs;
  const refPlan = new Float64Array(a);
  let refReturn = 0;
  for (let t = 0; t < 5; t++) {
    expert.plan(venv.obs, n, plans);
    expert.plan(refObs, 1, refPlan);
    venv.step(plans);
    const step = ref.step(refPlan);
    refObs = step.obs;
    refReturn += step.reward;
    if (t < 4) {
      assert.equal(venv.truncated[0], 0);
      assert.deepEqual(venv.obs.slice(0, d), venv.finalObs.slice(0, d));
    }
  }
  for (let i = 0; i < n; i++) {
    assert.equal(venv.truncated[i], 1);
    assert.equal(venv.terminated[i], 0);
    assert.equal(venv.episodeLengths[i], 5);
  }
  assert.deepEqual(venv.finalObs.slice(0, d), refObs);
  assert.ok(Math.abs(venv.episodeReturns[0] - refReturn) < 1e-12);
  assert.ok(venv.episodeMetrics[2] > 0, "the finished episode's route completion is kept");
  assert.deepEqual(Array.from(venv.seeds), [7 + n, 30 + n]);
  assert.deepEqual(venv.obs.slice(0, d), new DrivingEnv(cfg).reset(7 + n).obs);
  assert.deepEqual(venv.obs.slice(d, 2 * d), new DrivingEnv(cfg).reset(30 + n).obs);
  assert.notDeepEqual(venv.obs.slice(0, d), venv.finalObs.slice(0, d));
  // The next episode runs from its first obs and ends again after 5 steps, seed + 2N.
  for (let t = 0; t < 5; t++) {
    expert.plan(venv.obs, n, plans);
    venv.step(plans);
  }
  assert.deepEqual(Array.from(venv.seeds), [7 + 2 * n, 30 + 2 * n]);
  assert.throws(() => venv.step(new Float64Array(3)), RangeError);
  assert.throws(() => venv.reset([1]), RangeError);
});

Deno.test("planners are pure functions of obs", () => {
  for (const cfg of [CFG, SMOKE_ENV]) {
    const venv = new EpisodeStatistics(new Driving(cfg, 4), { autoReset: true });
    venv.reset([1, 2, 3, 4]);
    venv.step(new Float64Array(4 * actionDim(cfg)).fill(1));
    const obs = venv.obs.slice();
    for (const planner of [new BuiltinSftPlanner(cfg), new ExpertPlanner(cfg)]) {
      const first = new Float64Array(4 * actionDim(cfg));
      const second = new Float64Array(4 * actionDim(cfg));
      planner.plan(obs, 4, first);
      const other = obs.slice();
      other[3] += 1;
      planner.plan(other, 4, second); // anything in between must not matter
      planner.plan(obs, 4, second);
      assert.deepEqual(second, first);
      // Row by row equals the batch (no dependence on neighbours).
      const row = new Float64Array(actionDim(cfg));
      planner.plan(obs.subarray(obsDim(cfg), 2 * obsDim(cfg)), 1, row);
      assert.deepEqual(row, first.subarray(actionDim(cfg), 2 * actionDim(cfg)));
    }
  }
});

Deno.test("the SFT planner is wrong in a systematic way plus small noise", () => {
  const env = new DrivingEnv(CFG);
  const { obs } = env.reset(9);
  const H = CFG.horizon_steps;
  const plain = new BuiltinSftPlanner(CFG, { noiseStd: 0 });
  const noisy = new BuiltinSftPlanner(CFG);
  const expert = new ExpertPlanner(CFG);
  const p = new Float64Array(2 * H), q = new Float64Array(2 * H), e = new Float64Array(2 * H);
  plain.plan(obs, 1, p);
  noisy.plan(obs, 1, q);
  expert.plan(obs, 1, e);
  assert.deepEqual(e, obs.subarray(1));
  for (let j = 0; j < H; j++) {
    assert.equal(p[2 * j], obs[1 + 2 * j]);
    assert.ok(
      Math.abs(p[2 * j + 1] - (plain.curvatureScale * obs[2 + 2 * j] + plain.lateralOffset)) <
        1e-12,
    );
  }
  let sumSq = 0;
  for (let j = 0; j < 2 * H; j++) sumSq += (q[j] - p[j]) ** 2;
  const rms = Math.sqrt(sumSq / (2 * H));
  assert.ok(rms > 0.02 && rms < 0.3, `noise rms ${rms}`);
});

Deno.test("the expert succeeds more often than the SFT planner", () => {
  const expert = plannerSummary(CFG, new ExpertPlanner(CFG), { count: 50, firstSeed: 0 });
  const sft = plannerSummary(CFG, new BuiltinSftPlanner(CFG), { count: 50, firstSeed: 0 });
  assert.ok(expert.success_rate >= 0.95, `expert ${expert.success_rate}`);
  assert.ok(sft.success_rate < 0.8, `sft ${sft.success_rate}`);
  assert.ok(expert.success_rate > sft.success_rate);
  assert.ok(expert.return_mean > sft.return_mean);
  // The smoke settings run (episodes are cut at 20 steps).
  const smoke = plannerSummary(SMOKE_ENV, new BuiltinSftPlanner(SMOKE_ENV), {
    count: 8,
    firstSeed: 0,
  });
  assert.equal(smoke.num_episodes, 8);
  assert.ok(smoke.steps_mean <= SMOKE_ENV.max_episode_steps);
});

Deno.test("evaluatePolicy runs each seed once whatever numEnvs", () => {
  const sft = new BuiltinSftPlanner(CFG);
  const a = plannerSummary(CFG, sft, { count: 12, firstSeed: 100, numEnvs: 5 });
  const b = plannerSummary(CFG, sft, { count: 12, firstSeed: 100, numEnvs: 12 });
  assert.ok(Math.abs(a.return_mean - b.return_mean) < 1e-9);
  assert.equal(a.success_rate, b.success_rate);
  let total = 0;
  for (let s = 100; s < 112; s++) total += drive(CFG, s, sft).rewards.reduce((x, r) => x + r, 0);
  assert.ok(Math.abs(a.return_mean - total / 12) < 1e-9);
});

Deno.test("distanceToGoal is the straight-line distance from the car to the goal, every step", () => {
  const env = new DrivingEnv(CFG);
  const expert = new ExpertPlanner(CFG);
  const plan = new Float64Array(actionDim(CFG));
  const toGoal = () => {
    const route = env.route, goal = route.numTargets - 1;
    const gx = env.pose[0] - route.targetX(goal), gy = env.pose[1] - route.targetY(goal);
    return Math.sqrt(gx * gx + gy * gy);
  };
  let { obs, info } = env.reset(7);
  assert.equal(info.distanceToGoal, toGoal());
  let last = info.distanceToGoal;
  for (let done = false; !done;) {
    expert.plan(obs, 1, plan);
    const r = env.step(plan);
    ({ obs, info } = r);
    done = r.terminated || r.truncated;
    // before any reset, the pose is the one the step ended in
    if (!done) assert.equal(info.distanceToGoal, toGoal());
    last = info.distanceToGoal;
    if (done) assert.ok(r.info.success, "the expert reaches the goal");
  }
  // on success the car stands within the reach radius of the goal, not "0 by definition"
  assert.ok(last > 0 && last <= CFG.target_reach_radius, `${last}`);
});
