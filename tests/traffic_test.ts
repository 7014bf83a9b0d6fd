/**
 * The traffic env: box geometry against brute force, the observation, collisions,
 * scenario lists, replay and IDM, and `train`/`eval --env traffic` end to end
 * (same seed, same bytes; exact resume; one-line errors).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  boxCorners,
  boxesOverlap,
  boxGap,
  DEFAULT_TRAFFIC_CONFIG,
  EpisodeStatistics,
  generateScenario,
  NEIGHBOR_FEATURES,
  PATH_FEATURES,
  SCENARIO_FORMAT,
  SCENARIO_KINDS,
  Traffic,
  TRAFFIC_ENV_DEFAULTS,
  TRAFFIC_METRICS,
  TrafficExpertPlanner,
  ZPrefixPlanner,
} from "../src/env/mod.ts";
import type { Scenario } from "../src/env/mod.ts";
import { Rng } from "../src/math/mod.ts";
import { BuiltinSftPlanner, TRAFFIC_SFT_OPTIONS } from "../src/env/mod.ts";
import { ptTensors, readJson, runCli, withTempDir } from "./_helpers.ts";

// Brute force: two convex quads overlap iff an edge of one crosses an edge of the
// other or a corner of one lies inside the other.
function bruteOverlap(a: number[], b: number[]): boolean {
  const ca = new Float64Array(8), cb = new Float64Array(8);
  boxCorners(a, ca);
  boxCorners(b, cb);
  const cross = (ox: number, oy: number, ax: number, ay: number, bx: number, by: number) =>
    (ax - ox) * (by - oy) - (ay - oy) * (bx - ox);
  const inside = (p: Float64Array, k: number, q: Float64Array) => {
    for (let e = 0; e < 4; e++) {
      const f = (e + 1) & 3;
      if (cross(q[2 * e], q[2 * e + 1], q[2 * f], q[2 * f + 1], p[2 * k], p[2 * k + 1]) <= 0) {
        return false;
      }
    }
    return true;
  };
  for (let k = 0; k < 4; k++) if (inside(ca, k, cb) || inside(cb, k, ca)) return true;
  for (let e = 0; e < 4; e++) {
    for (let g = 0; g < 4; g++) {
      const [p1x, p1y, p2x, p2y] = [
        ca[2 * e],
        ca[2 * e + 1],
        ca[(2 * e + 2) & 7],
        ca[(2 * e + 3) & 7],
      ];
      const [q1x, q1y, q2x, q2y] = [
        cb[2 * g],
        cb[2 * g + 1],
        cb[(2 * g + 2) & 7],
        cb[(2 * g + 3) & 7],
      ];
      const d1 = cross(p1x, p1y, p2x, p2y, q1x, q1y), d2 = cross(p1x, p1y, p2x, p2y, q2x, q2y);
      const d3 = cross(q1x, q1y, q2x, q2y, p1x, p1y), d4 = cross(q1x, q1y, q2x, q2y, p2x, p2y);
      if (d1 * d2 < 0 && d3 * d4 < 0) return true;
    }
  }
  return false;
}

// Brute force gap: the smallest distance between points sampled densely on both outlines.
function bruteGap(a: number[], b: number[]): number {
  const pts = (box: number[]) => {
    const c = new Float64Array(8);
    boxCorners(box, c);
    const out: number[] = [];
    for (let e = 0; e < 4; e++) {
      const f = (e + 1) & 3;
      for (let t = 0; t <= 200; t++) {
        out.push(c[2 * e] + (t / 200) * (c[2 * f] - c[2 * e]));
        out.push(c[2 * e + 1] + (t / 200) * (c[2 * f + 1] - c[2 * e + 1]));
      }
    }
    return out;
  };
  const p = pts(a), q = pts(b);
  let best = Infinity;
  for (let i = 0; i < p.length; i += 2) {
    for (let j = 0; j < q.length; j += 2) {
      best = Math.min(best, Math.hypot(p[i] - q[j], p[i + 1] - q[j + 1]));
    }
  }
  return best;
}

Deno.test("oriented boxes: SAT overlap agrees with a brute-force test; the gap with sampling", () => {
  const rng = new Rng(5);
  let hits = 0;
  for (let n = 0; n < 3000; n++) {
    const box = () => [
      rng.range(-4, 4),
      rng.range(-4, 4),
      rng.range(-4, 4),
      rng.range(1, 6),
      rng.range(0.5, 3),
    ];
    const a = box(), b = box();
    const sat = boxesOverlap(a, b);
    assert.equal(sat, bruteOverlap(a, b), `boxes ${a} and ${b}`);
    if (sat) hits++;
    if (n < 150 && !sat) {
      const g = boxGap(a, b);
      assert.ok(Math.abs(g - bruteGap(a, b)) < 0.03, `gap ${g} vs ${bruteGap(a, b)}`);
      assert.ok(g > 0);
    }
  }
  assert.ok(hits > 500 && hits < 2500, `${hits} overlaps: both cases are exercised`);
  assert.equal(boxGap([0, 0, 0, 4, 2], [10, 0, 0, 4, 2]), 6);
  assert.equal(boxGap([0, 0, 0, 4, 2], [0, 0, 1, 4, 2]), 0);
});

// A straight route along +x, the ego at its start at 8 m/s, and `vehicles`.
function straight(vehicles: Scenario["vehicles"]): Scenario {
  const x = Array.from({ length: 121 }, (_, i) => 10 + i * 0.5);
  return {
    format: SCENARIO_FORMAT,
    version: 1,
    id: "straight",
    route: { x, y: x.map(() => 50) },
    ego: { x: 10, y: 50, yaw: 0, speed: 8 },
    vehicles,
  };
}

const parked = (id: string, x: number, y: number): Scenario["vehicles"][number] => ({
  id,
  length: 4,
  width: 2,
  mode: "replay",
  trajectory: [{ t: 0, x, y, yaw: 0, speed: 0 }],
});

Deno.test("Traffic: K nearest in the car frame, zero-padded, then their place on the path; a collision ends the episode with the penalty", () => {
  const traffic = { ...DEFAULT_TRAFFIC_CONFIG, neighbors: 3 };
  const scenarios = [
    straight([parked("far", 60, 50), parked("near", 30, 50), parked("side", 20, 56)]),
  ];
  const venv = new EpisodeStatistics(new Traffic(TRAFFIC_ENV_DEFAULTS, 1, { traffic, scenarios }), {
    autoReset: true,
  });
  const z = 1 + 2 * TRAFFIC_ENV_DEFAULTS.horizon_steps;
  assert.equal(venv.obsDim, z + 3 * (NEIGHBOR_FEATURES + PATH_FEATURES));
  venv.reset([7]);
  const slot = (q: number) => [...venv.obs.subarray(z + q * 8, z + q * 8 + 8)];
  // nearest first: side (10, 6) at 11.7 m, near (20, 0), far (50, 0); vx = -8 (ego at 8 m/s)
  assert.deepEqual(slot(0), [10, 6, -8, 0, 0, 4, 2, 1]);
  assert.deepEqual(slot(1), [20, 0, -8, 0, 0, 4, 2, 1]);
  assert.deepEqual(slot(2), [50, 0, -8, 0, 0, 4, 2, 1]);
  // the path block, in slot order: along the (straight) route, and beside it
  assert.deepEqual([...venv.obs.subarray(z + 24)], [10, 6, 20, 0, 50, 0]);
  const plain = new Traffic(TRAFFIC_ENV_DEFAULTS, 1, {
    traffic: { ...traffic, path_features: false },
    scenarios,
  });
  plain.reset([7]);
  assert.equal(plain.obsDim, z + 3 * NEIGHBOR_FEATURES);
  assert.deepEqual([...plain.obs], [...venv.obs.subarray(0, plain.obsDim)]);
  const plans = [traffic, plain.traffic].map((t) => {
    const out = new Float64Array(2 * TRAFFIC_ENV_DEFAULTS.horizon_steps);
    const expert = new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, t);
    expert.plan(t.path_features ? venv.obs : plain.obs, 1, out);
    return [...out];
  });
  assert.deepEqual(plans[0], plans[1], "the expert reads the same numbers in both layouts");

  const wide = new EpisodeStatistics(
    new Traffic(TRAFFIC_ENV_DEFAULTS, 1, {
      traffic: { ...traffic, neighbors: 5 },
      scenarios,
    }),
    { autoReset: true },
  );
  wide.reset([0]);
  assert.deepEqual([...wide.obs.subarray(z + 3 * 8, z + 5 * 8)], new Array(16).fill(0));
  assert.deepEqual([...wide.obs.subarray(z + 5 * 8 + 6)], new Array(4).fill(0));

  // the SFT planner ignores the car 20 m ahead and drives into it
  const sft = new ZPrefixPlanner(new BuiltinSftPlanner(TRAFFIC_ENV_DEFAULTS, TRAFFIC_SFT_OPTIONS), {
    obsDim: venv.obsDim,
  });
  const plan = new Float64Array(venv.actionDim);
  let steps = 0;
  for (; steps < 50; steps++) {
    sft.plan(venv.obs, 1, plan);
    venv.step(plan);
    if (venv.terminated[0]) break;
  }
  assert.equal(venv.success[0], 0);
  const m = (name: string) =>
    venv.episodeMetrics[TRAFFIC_METRICS.findIndex((x) => x.name === name)];
  assert.equal(m("collisions"), 1);
  assert.equal(m("min_gap"), 0);
  assert.ok(venv.rewards[0] < -9, `the step's reward ${venv.rewards[0]} holds the penalty`);
  assert.equal(venv.seeds[0], 8, "restarted with the next seed");

  // the expert stops behind it instead
  const expert = new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, traffic);
  venv.reset([0]);
  for (let t = 0; t < 60; t++) {
    expert.plan(venv.obs, 1, plan);
    venv.step(plan);
    assert.equal(venv.terminated[0], 0);
  }
  assert.ok(venv.obs[0] < 0.5, `stopped: speed ${venv.obs[0]}`);
});

Deno.test("a scenario with a logged reference: ADE/FDE against its route (the logged path)", () => {
  const s = straight([parked("side", 40, 56)]);
  const withRef = { ...s, reference: [{ t: 0, x: 10, y: 50, yaw: 0, speed: 8 }] };
  const ade = (scenario: Scenario) => {
    const venv = new EpisodeStatistics(
      new Traffic(TRAFFIC_ENV_DEFAULTS, 1, { scenarios: [scenario] }),
      { autoReset: true },
    );
    venv.reset([0]);
    const plan = new Float64Array(venv.actionDim);
    for (let t = 0; t < 200; t++) {
      // drive 1 m left of the route targets: 1 m from the logged path
      for (let j = 0; j < plan.length; j += 2) {
        plan[j] = venv.obs[1 + j];
        plan[j + 1] = venv.obs[2 + j] + 1;
      }
      venv.step(plan);
      if (venv.terminated[0] || venv.truncated[0]) break;
    }
    return venv.episodeMetrics[TRAFFIC_METRICS.findIndex((m) => m.name === "ade")];
  };
  assert.ok(Math.abs(ade(withRef) - 1) < 1e-9, `${ade(withRef)}`);
});

Deno.test("seeded scenarios: deterministic, every kind; a list cycles by seed; replay = IDM alone", () => {
  const cfg = { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG };
  assert.deepEqual(generateScenario(11, cfg), generateScenario(11, cfg));
  const kinds = new Set(Array.from({ length: 40 }, (_, s) => generateScenario(s, cfg).kind));
  assert.deepEqual([...kinds].sort(), [...SCENARIO_KINDS].sort());

  const list = [0, 1, 2].map((s) => generateScenario(s, cfg));
  const venv = new EpisodeStatistics(new Traffic(TRAFFIC_ENV_DEFAULTS, 2, { scenarios: list }), {
    autoReset: true,
  });
  venv.reset([4, 2]);
  assert.equal(venv.env.current[0], list[1]);
  assert.equal(venv.env.current[1], list[2]);

  // a slow lead far ahead never meets the ego: replayed or IDM, the same drive
  const found = list.concat(Array.from({ length: 40 }, (_, s) => generateScenario(100 + s, cfg)))
    .find((s) => s.kind === "slow_lead")!;
  const lead = { ...found, vehicles: found.vehicles.filter((v) => v.mode === "idm") };
  const run = (mode: string) => {
    const env = new EpisodeStatistics(
      new Traffic(TRAFFIC_ENV_DEFAULTS, 1, {
        traffic: { ...DEFAULT_TRAFFIC_CONFIG, vehicle_mode: mode },
        scenarios: [lead],
      }),
      { autoReset: true },
    );
    env.reset([0]);
    const still = new Float64Array(env.actionDim); // plan at the car: the ego stops
    const seen: number[] = [];
    for (let t = 0; t < 30; t++) {
      env.step(still);
      seen.push(...env.obs.subarray(9, 17));
    }
    return seen;
  };
  const idm = run("idm"), replay = run("replay");
  assert.equal(idm.length, replay.length);
  for (let j = 0; j < idm.length; j++) assert.ok(Math.abs(idm[j] - replay[j]) < 1e-9);
});

const GENERATED = { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG };

const SMALL = [
  "--env",
  "traffic",
  "--warm-start-rounds",
  "0",
  "--episodes",
  "40",
  "--num-envs",
  "5",
  "--eval-interval",
  "10",
  "--save-interval",
  "20",
  "--eval-episodes",
  "5",
  "--heldout-episodes",
  "10",
  "--quiet",
];

Deno.test("train --env traffic: same seed, same bytes; exact resume; eval --output integers; bad input", () =>
  withTempDir(async (dir) => {
    const a = join(dir, "a"), b = join(dir, "b"), r = join(dir, "r");
    for (const out of [a, b]) {
      const res = await runCli(["train", ...SMALL, "--out-dir", out]);
      assert.equal(res.code, 0, res.stderr);
    }
    assert.deepEqual(await ptTensors(join(a, "final.pt")), await ptTensors(join(b, "final.pt")));
    const strip = (p: string) =>
      JSON.stringify(readJson(p), (k, v) => (/time|wall/.test(k) ? 0 : v));
    assert.equal(strip(join(a, "metrics.json")), strip(join(b, "metrics.json")));
    const tm = readJson(join(a, "train_metrics.json")) as {
      heldout: { sft: Record<string, number> };
    };
    assert.ok("collision_rate" in tm.heldout.sft && "route_completion" in tm.heldout.sft);
    assert.equal(
      (readJson(join(a, "config.json")) as { traffic: unknown }).traffic !== undefined,
      true,
    );

    const res = await runCli([
      "train",
      "--resume",
      join(a, "checkpoints", "checkpoint_20.pt"),
      "--out-dir",
      r,
      "--quiet",
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await ptTensors(join(r, "final.pt")), await ptTensors(join(a, "final.pt")));

    const report = await runCli(["report", a]);
    assert.equal(report.code, 0, report.stderr);
    const svg = Deno.readTextFileSync(join(a, "report.svg"));
    // the collision rate in percent, in its own panel beside route completion
    assert.ok(
      svg.includes(">Held-out route completion<") && svg.includes(">Held-out collisions<") &&
        svg.includes(">rate (%)<") && svg.includes("SFT planner"),
    );

    const output = join(dir, "ev.json");
    const ev = await runCli([
      "eval",
      "--policy",
      "sft",
      "--policy",
      "expert",
      "--policy",
      join(a, "final.pt"),
      "--episodes",
      "6",
      "--output",
      output,
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    const docs = readJson(output) as Array<{
      scenarios: Array<Record<string, unknown> & { raw: { seed: number; group: string } }>;
      groups: Record<string, Record<string, number>>;
    }>;
    for (const doc of docs) {
      for (const s of doc.scenarios) {
        for (const k of ["collisions", "offroad", "red_light"]) {
          assert.ok(Number.isInteger(s[k]), k);
        }
      }
      // every episode's scenario kind, and the summary of each kind's episodes
      const kinds = doc.scenarios.map((s) => s.raw.group);
      assert.deepEqual(
        kinds,
        doc.scenarios.map((s) => generateScenario(s.raw.seed, GENERATED).kind),
      );
      assert.deepEqual(Object.keys(doc.groups), [...new Set(kinds)].sort());
      for (const [kind, g] of Object.entries(doc.groups)) {
        const own = doc.scenarios.filter((s) => s.raw.group === kind);
        assert.equal(g.num_episodes, own.length);
        const rate = own.reduce((sum, s) => sum + (s.collisions as number), 0) / own.length;
        assert.equal(g.collision_rate, rate);
      }
    }
    assert.match(ev.stdout, /^per group of episodes:$/m);
    assert.match(ev.stdout, /^expert\s+stopped_in_lane\s+\d+\s/m);
    const groups = (readJson(join(a, "train_metrics.json")) as {
      heldout: { groups: { sft: Record<string, unknown>; refined: Record<string, unknown> } };
    }).heldout.groups;
    assert.deepEqual(Object.keys(groups.refined), Object.keys(groups.sft));

    for (
      const [args, what] of [
        [["--vehicle-mode", "teleport"], "--vehicle-mode: expected one of idm, replay"],
        [["--neighbors", "-1"], "--neighbors"],
      ] as const
    ) {
      const bad = await runCli(["train", ...SMALL, "--out-dir", join(dir, "bad"), ...args]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert.ok(bad.stderr.includes(what), bad.stderr);
    }
    const notTraffic = await runCli(["train", "--neighbors", "4", "--out-dir", join(dir, "bad")]);
    assert.equal(notTraffic.code, 2);
    assert.match(notTraffic.stderr, /only for --env traffic/);
  }));

Deno.test("train --env traffic --max-log-std(-end): log_std held at the falling bound, exact resume; a bound under init_log_std is refused", () =>
  withTempDir(async (dir) => {
    const a = join(dir, "a"), r = join(dir, "r");
    // a spread that grows (init_log_std 0.5, the entropy bonus 0.02); the bound falls from
    // 0.6 to 0.45 over the 40 episodes
    const grows = join(dir, "grows.json");
    Deno.writeTextFileSync(grows, JSON.stringify({ ppo: { init_log_std: 0.5, ent_coef: 0.02 } }));
    const bound = ["--config", grows, "--max-log-std", "0.6", "--max-log-std-end", "0.45"];
    const res = await runCli(["train", ...SMALL, ...bound, "--out-dir", a]);
    assert.equal(res.code, 0, res.stderr);
    const ppo = (readJson(join(a, "config.json")) as { ppo: Record<string, unknown> }).ppo;
    assert.equal(ppo.max_log_std, 0.6);
    assert.equal(ppo.max_log_std_end, 0.45);
    const logStd = async (path: string) => {
      const bytes = (await ptTensors(path)).get(".delta_head.log_std")!;
      return [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)];
    };
    const held = await logStd(join(a, "final.pt"));
    const top = Math.fround(0.45); // the bound after the last update
    assert.ok(held.every((x) => x <= top), `log_std ${held} above the bound`);
    assert.ok(held.some((x) => x === top), `log_std ${held} never reached the bound`);

    const resumed = await runCli([
      "train",
      "--resume",
      join(a, "checkpoints", "checkpoint_20.pt"),
      "--out-dir",
      r,
      "--quiet",
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    // the first tensor that differs, if any (deepEqual's diff of the bytes takes minutes)
    const [x, y] = [await ptTensors(join(r, "final.pt")), await ptTensors(join(a, "final.pt"))];
    const differ = [...y.keys()].find((k) => x.get(k)?.join() !== y.get(k)!.join());
    assert.equal(differ, undefined, `resumed run differs in ${differ}`);
    assert.equal(x.size, y.size);

    const bad = await runCli([
      ...["train", ...SMALL, "--config", grows, "--max-log-std", "0.4", "--out-dir", r],
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /init_log_std: must not exceed max_log_std/);
  }));
