/**
 * Scenario files through the CLI: `scenarios --from-episodes` on logged episodes this
 * test writes itself (a drive along a known curve, with other road users), the set it
 * writes (stable text, refusing to overwrite), and bad episode and scenario files: one
 * line naming the file and the field, exit 2, nothing written.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkScenario, scenarioJson } from "../src/env/mod.ts";
import type { Scenario } from "../src/env/mod.ts";
import { jsonToPt, PtDict, ptToJson, readPt, writePt } from "../src/io/mod.ts";
import {
  mainInProcess,
  ptLeaves,
  readJson,
  resumeComparable,
  runCli,
  withTempDir,
} from "./_helpers.ts";

// ---------------------------------------------------------------------------------------
// A logged drive along a known curve

/** The ego's true world pose at time t: an arc of radius 40 m at 8 m/s, from (10, -3), heading 0.3. */
function truePose(t: number): { x: number; y: number; yaw: number } {
  const radius = 40, speed = 8, yaw0 = 0.3;
  const a = speed * t / radius;
  const lx = radius * Math.sin(a), ly = radius * (1 - Math.cos(a));
  return {
    x: 10 + Math.cos(yaw0) * lx - Math.sin(yaw0) * ly,
    y: -3 + Math.sin(yaw0) * lx + Math.cos(yaw0) * ly,
    yaw: yaw0 + a,
  };
}

/** Another car's true world position at time t: straight along +x at 6 m/s. */
function otherCar(t: number): { x: number; y: number } {
  return { x: 25 + 6 * t, y: 4 };
}

/** `p` seen from the ego at time t (x forward, y left). */
function egoFrame(t: number, p: { x: number; y: number }): [number, number] {
  const e = truePose(t), c = Math.cos(e.yaw), s = Math.sin(e.yaw);
  const dx = p.x - e.x, dy = p.y - e.y;
  return [c * dx + s * dy, -s * dx + c * dy];
}

/**
 * An episode in the research repo's format: frames at `times`, waypoints every `dt` for
 * `horizon` steps where the log reaches that far (absent near the end, as upstream), the
 * other car listed in `agents` of frames 5 to 30 (with its speed from frame 15 on).
 */
function episode(id: string, times: number[], opts: { dt: number; horizon: number }) {
  const end = times.at(-1)!;
  const frames = times.map((t, k) => {
    const frame: Record<string, unknown> = {
      t,
      observations: {
        state: { speed_mps: 8, yaw_rad: truePose(t).yaw, accel: 0 },
        cameras: { front: `cam/${k}.jpg` },
      },
    };
    if (t + opts.horizon * opts.dt <= end + 1e-9) {
      const waypoints = [];
      for (let j = 1; j <= opts.horizon; j++) {
        waypoints.push(egoFrame(t, truePose(t + j * opts.dt)));
      }
      frame.expert = { waypoints };
    }
    if (k >= 5 && k <= 30) {
      const [x, y] = egoFrame(t, otherCar(t));
      frame.agents = [{
        id: 17,
        x,
        y,
        yaw: -truePose(t).yaw,
        length: 4.6,
        width: 1.9,
        type: "vehicle",
        ...(k >= 15 ? { speed: 6 } : {}),
      }];
    }
    return frame;
  });
  return {
    episode_id: id,
    domain: "driving",
    source: { dataset: "synthetic", split: "test", scene_id: `scene-${id}` },
    waypoint_spec: { horizon_steps: opts.horizon, dt: opts.dt, frame: "ego", units: "m" },
    frames,
  };
}

/** Largest distance between the recovered samples and the true path (shifted so it starts at 0). */
function worstPathError(points: { t: number; x: number; y: number }[], t0: number): number {
  const start = truePose(t0);
  let worst = 0;
  for (const p of points) {
    const e = truePose(t0 + p.t);
    worst = Math.max(worst, Math.hypot(p.x - (e.x - start.x), p.y - (e.y - start.y)));
  }
  return worst;
}

Deno.test("scenarios --from-episodes: the logged path becomes route and reference, agents replayed vehicles", async () => {
  await withTempDir(async (dir) => {
    const logs = join(dir, "logs"), out = join(dir, "set");
    Deno.mkdirSync(logs);
    const every = Array.from({ length: 60 }, (_, k) => 0.1 * k);
    // frames 0.1 s apart with a little jitter: the path between waypoints is interpolated
    const jittered = every.map((t, k) => t + (k % 3 === 1 ? 0.013 : 0) + 5);
    Deno.writeTextFileSync(
      join(logs, "a.json"),
      JSON.stringify(episode("drive/a", every, { dt: 0.1, horizon: 20 })),
    );
    Deno.writeTextFileSync(
      join(logs, "b.json"),
      JSON.stringify(episode("drive b", jittered, { dt: 0.1, horizon: 20 })),
    );
    Deno.writeTextFileSync(join(logs, "notes.txt"), "not an episode");

    const r = await runCli(["scenarios", "--from-episodes", logs, "--out-dir", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [
      "drive_a.json",
      "drive_b.json",
    ]);

    const a = readJson(join(out, "drive_a.json")) as Scenario;
    assert.equal(a.id, "drive/a");
    assert.equal(a.kind, "log");
    assert.deepEqual(a.ego, { x: 0, y: 0, yaw: 0.3, speed: 8 });
    assert.deepEqual(a.metadata, {
      dataset: "synthetic",
      dt: 0.1,
      episode_id: "drive/a",
      scene_id: "scene-drive/a",
      source: "episode",
      split: "test",
    });
    // frames whole dt apart: the chained waypoints give the path to rounding
    assert.equal(a.reference!.length, 60);
    assert.ok(worstPathError(a.reference!, 0) < 1e-9, `${worstPathError(a.reference!, 0)}`);
    assert.equal(a.route.x.length, 60);
    const routeErr = worstPathError(
      a.route.x.map((x, k) => ({ t: 0.1 * k, x, y: a.route.y[k] })),
      0,
    );
    assert.ok(routeErr < 1e-9, `${routeErr}`);
    // the other car: samples of frames 5..30 in the world frame (origin at the ego's start)
    assert.equal(a.vehicles.length, 1);
    const car = a.vehicles[0];
    assert.equal(car.mode, "replay");
    assert.deepEqual([car.id, car.length, car.width], ["17", 4.6, 1.9]);
    if (car.mode !== "replay") return;
    assert.equal(car.trajectory.length, 26);
    const start = truePose(0);
    for (const p of car.trajectory) {
      const w = otherCar(p.t);
      assert.ok(Math.hypot(p.x - (w.x - start.x), p.y - (w.y - start.y)) < 1e-9);
      assert.ok(Math.abs(p.yaw) < 1e-12);
      assert.ok(Math.abs(p.speed - 6) < 1e-6, `speed ${p.speed} at t ${p.t}`);
    }
    // jittered frames: within 5 cm of the true path (the chord between waypoints)
    const b = readJson(join(out, "drive_b.json")) as Scenario;
    assert.equal(b.reference![0].t, 0);
    const bErr = worstPathError(b.reference!, 5);
    assert.ok(bErr < 0.05 && bErr > 0, `jittered path error ${bErr}`);

    // the text is stable: checked and written again, the same bytes
    for (const name of ["drive_a.json", "drive_b.json"]) {
      const text = Deno.readTextFileSync(join(out, name));
      assert.equal(scenarioJson(checkScenario(JSON.parse(text), name)), text);
    }

    // an existing set is never replaced silently; --overwrite replaces scenario files only
    const before = Deno.readTextFileSync(join(out, "drive_a.json"));
    const again = await runCli(["scenarios", "--from-episodes", logs, "--out-dir", out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^error: --out-dir .* already holds a scenario set .*--overwrite/);
    assert.equal(Deno.readTextFileSync(join(out, "drive_a.json")), before);
    Deno.writeTextFileSync(join(out, "mine.json"), "{}");
    const blocked = await runCli([
      "scenarios",
      "--from-episodes",
      logs,
      "--out-dir",
      out,
      "--overwrite",
    ]);
    assert.equal(blocked.code, 2);
    assert.match(blocked.stderr, /mine\.json is not a scenario file/);
    assert.equal(Deno.readTextFileSync(join(out, "drive_a.json")), before);
    Deno.removeSync(join(out, "mine.json"));
    Deno.removeSync(join(logs, "b.json"));
    const replaced = await runCli([
      "scenarios",
      "--from-episodes",
      logs,
      "--out-dir",
      out,
      "--overwrite",
    ]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["drive_a.json"]);
  });
});

// ---------------------------------------------------------------------------------------
// Bad files: one line naming the file and the field, exit 2

/** Runs the CLI in this process, with its stderr lines. */
const cli = mainInProcess;

/** `episode()` with `edit` applied to a deep copy. */
function editedEpisode(edit: (e: ReturnType<typeof episode>) => void) {
  const e = structuredClone(episode("e", Array.from({ length: 30 }, (_, k) => 0.1 * k), {
    dt: 0.1,
    horizon: 10,
  }));
  edit(e);
  return e;
}

// the cases edit the episode freely, whatever its shape
// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, unknown> & { frames: Record<string, any>[] };

Deno.test("scenarios --from-episodes: a bad episode file is one line naming the file and the field", async () => {
  const cases: [string, (e: AnyRecord) => void, RegExp][] = [
    ["no_id", (e) => delete e.episode_id, /episode_id: missing$/],
    ["domain", (e) => (e.domain = "robotics"), /domain: must be "driving", got "robotics"$/],
    [
      "frame_kind",
      (e) => ((e.waypoint_spec as AnyRecord).frame = "world"),
      /waypoint_spec\.frame: must be "ego"/,
    ],
    [
      "dt",
      (e) => ((e.waypoint_spec as AnyRecord).dt = 0),
      /waypoint_spec\.dt: must be > 0, got 0$/,
    ],
    ["t_order", (e) => (e.frames[7].t = 0.5), /frames\[7\]\.t: must increase \(0\.5 after 0\.6/],
    [
      "yaw_nan",
      (e) => (e.frames[3].observations.state.yaw_rad = "NaN"),
      /frames\[3\]\.observations\.state\.yaw_rad: must be a finite number, got "NaN"$/,
    ],
    [
      "no_state",
      (e) => delete e.frames[2].observations.state,
      /frames\[2\]\.observations\.state: must be an object, got undefined$/,
    ],
    [
      "speed",
      (e) => (e.frames[4].observations.state.speed_mps = -1),
      /speed_mps: must be >= 0, got -1$/,
    ],
    [
      "wp_shape",
      (e) => (e.frames[1].expert.waypoints[3] = [1, 2, 3]),
      /frames\[1\]\.expert\.waypoints\[3\]: has 3 entries, over the limit of 2$/,
    ],
    [
      "wp_long",
      (e) => e.frames[1].expert.waypoints.push([0, 0]),
      /frames\[1\]\.expert\.waypoints: has 11 entries, over the limit of 10$/,
    ],
    [
      "first_wp",
      (e) => delete e.frames[0].expert,
      /frames\[0\]\.expert: missing \(the ego's path starts from it\)$/,
    ],
    [
      "gap",
      (e) => e.frames.splice(5, 13),
      /frames\[5\]: 1\.400 s after frames\[4\], past its last waypoint/,
    ],
    [
      "agent_size",
      (e) => (e.frames[6].agents[0].width = 0),
      /frames\[6\]\.agents\[0\]\.width: must be > 0, got 0$/,
    ],
    [
      "agent_twice",
      (e) => e.frames[6].agents.push(e.frames[6].agents[0]),
      /frames\[6\]\.agents\[1\]\.id: "17" is listed twice in this frame$/,
    ],
    [
      // a fault only the converted scenario shows names it so, not as the episode's field
      "agent_yaw",
      (e) => (e.frames[6].agents[0].yaw = 100),
      /: the scenario made from it: vehicles\[0\]\.trajectory\[1\]\.yaw: must be <= 100, got 100\.\d+$/,
    ],
    [
      // 2100 characters, 4200 bytes as JSON: read back, the file would break its string budget
      "escaped",
      (e) => ((e.source as Record<string, string>).scene_id = '"'.repeat(2100)),
      /: the scenario file made from it holds a string of 4200 bytes, over the limit of 4096 bytes, so it could not be read back$/,
    ],
    ["parked", (e) => {
      for (const f of e.frames) {
        if (f.expert) f.expert.waypoints = f.expert.waypoints.map(() => [0.001, 0]);
      }
    }, /frames: the ego moves less than 0\.1 m in the episode: no route to follow$/],
  ];
  await withTempDir(async (dir) => {
    for (const [name, edit, says] of cases) {
      const logs = join(dir, name), out = join(dir, `${name}_out`);
      Deno.mkdirSync(logs);
      Deno.writeTextFileSync(
        join(logs, "ok.json"),
        JSON.stringify(editedEpisode((e) => (e.episode_id = "ok"))),
      );
      const file = join(logs, "zz.json");
      Deno.writeTextFileSync(file, JSON.stringify(editedEpisode(edit as (e: unknown) => void)));
      const r = await cli(["scenarios", "--from-episodes", logs, "--out-dir", out]);
      assert.equal(r.code, 2, `${name}: exit ${r.code}`);
      assert.equal(r.lines.length, 1, `${name}: ${r.lines.join("\n")}`);
      assert.ok(r.lines[0].startsWith(`error: ${file}: `), `${name}: ${r.lines[0]}`);
      assert.match(r.lines[0], says, `${name}: ${r.lines[0]}`);
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, `${name}: nothing written`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// train --scenarios and eval --scenarios

/** A scenario the ego cannot start without a collision: a car parked 4 m ahead on the route. */
function blockedScenario(id: string): Scenario {
  return {
    format: "delta-waypoint/scenario",
    version: 1,
    id,
    route: { x: [0, 50, 100], y: [0, 0, 0] },
    ego: { x: 0, y: 0, yaw: 0, speed: 8 },
    vehicles: [{
      id: "wall",
      length: 4.5,
      width: 2,
      mode: "replay",
      trajectory: [{ t: 0, x: 4, y: 0, yaw: 0, speed: 0 }],
    }],
    metadata: { source: "test" },
  };
}

const TINY_TRAFFIC = [
  "--env",
  "traffic",
  "--warm-start-rounds",
  "0",
  "--episodes",
  "20",
  "--num-envs",
  "5",
  "--eval-interval",
  "10",
  "--save-interval",
  "10",
  "--eval-episodes",
  "3",
  "--heldout-episodes",
  "3",
  "--hidden-dim",
  "8",
  "--max-episode-steps",
  "40",
  "--quiet",
];

Deno.test("train --scenarios plays the set, evaluation stays held out; eval --scenarios refuses overlap", async () => {
  await withTempDir(async (dir) => {
    const at = (name: string) => join(dir, name);
    // a training set of two blocked starts: every training episode ends at once
    Deno.mkdirSync(at("blocked"));
    for (const id of ["b1", "b2"]) {
      const s = blockedScenario(id);
      if (id === "b2") s.ego.speed = 3;
      Deno.writeTextFileSync(at(`blocked/${id}.json`), scenarioJson(s));
    }
    const run = await runCli([
      "train",
      ...TINY_TRAFFIC,
      "--scenarios",
      at("blocked"),
      "--out-dir",
      at("run"),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const final = await readPt(at("run/final.pt")) as PtDict;
    const lengths = final.get("lengths") as number[];
    assert.equal(lengths.length, 20);
    assert.ok(lengths.every((n) => n === 1), `training episodes: ${lengths}`);
    const record = ptToJson(final.get("train_scenarios")!) as { count: number; digests: string[] };
    assert.equal(record.count, 2);
    assert.equal(new Set(record.digests).size, 2);
    // held-out episodes are the generated seeds from 2^30, not the set: they last longer
    const tm = readJson(at("run/train_metrics.json")) as {
      heldout: { sft: { steps_mean: number } };
    };
    assert.ok(tm.heldout.sft.steps_mean > 5, `held-out steps ${tm.heldout.sft.steps_mean}`);

    // resuming re-reads the recorded set and ends where the uninterrupted run did
    const resumed = await runCli([
      "train",
      "--resume",
      at("run/checkpoints/checkpoint_10.pt"),
      "--out-dir",
      at("resumed"),
      "--quiet",
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(at("resumed/final.pt"))),
      resumeComparable(await ptLeaves(at("run/final.pt"))),
    );
    // ... and refuses a set that changed since
    Deno.writeTextFileSync(at("blocked/b3.json"), scenarioJson(blockedScenario("b3")));
    const changed = await runCli([
      "train",
      "--resume",
      at("run/checkpoints/checkpoint_10.pt"),
      "--out-dir",
      at("resumed2"),
      "--quiet",
    ]);
    assert.equal(changed.code, 2);
    assert.match(
      changed.stderr,
      /^error: --resume .*: its scenario set .*blocked: not the scenario set the resumed run trained on \(2 files/,
    );

    // a held-out set: generated seeds from 2^30, evaluated once each, ids as scenario_id
    const gen = await runCli([
      "scenarios",
      "--env",
      "traffic",
      "--count",
      "3",
      "--seed",
      "1073741824",
      "--out-dir",
      at("heldout"),
      "--quiet",
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    const ids = [...Deno.readDirSync(at("heldout"))].map((e) => e.name).sort()
      .map((name) => (readJson(at(`heldout/${name}`)) as Scenario).id);
    for (const name of Deno.readDirSync(at("heldout"))) {
      const s = readJson(at(`heldout/${name.name}`)) as Scenario;
      assert.equal(s.metadata?.seed, Number(s.id.replace(/\D+/, "")));
    }
    const ev = await runCli([
      "eval",
      "--policy",
      at("run/final.pt"),
      "--scenarios",
      at("heldout"),
      "--output",
      at("eval.json"),
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /^eval: 3 episodes per policy, the scenario files of .*heldout\n/);
    const doc = readJson(at("eval.json")) as { scenarios: { scenario_id: string }[] };
    assert.deepEqual(doc.scenarios.map((s) => s.scenario_id), ids);

    // overlap: a training scenario in a held-out set, under another name and id
    const copy = blockedScenario("renamed");
    copy.metadata = { source: "copied" };
    Deno.writeTextFileSync(at("heldout/zz.json"), scenarioJson(copy));
    const overlap = await runCli([
      "eval",
      "--policy",
      at("run/final.pt"),
      "--scenarios",
      at("heldout"),
    ]);
    assert.equal(overlap.code, 2);
    assert.match(
      overlap.stderr,
      /^error: --scenarios .*heldout: .*zz\.json is a scenario --policy .*final\.pt was trained on/,
    );
    // a checkpoint whose record of its training set is damaged is refused, not ignored
    const damaged = await readPt(at("run/final.pt")) as PtDict;
    damaged.set("train_scenarios", jsonToPt({ dir: "x", digests: ["not hex"] }));
    await writePt(at("damaged.pt"), damaged);
    const bad = await cli(["eval", "--policy", at("damaged.pt"), "--scenarios", at("heldout")]);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.lines, [
      `error: ${
        at("damaged.pt")
      }: train_scenarios: expected {dir, count, digests} with 16-hex-digit digests`,
    ]);
    // a held-out set is not a training set; a set is one or the other
    Deno.removeSync(at("heldout/zz.json"));
    const train2 = await runCli([
      "train",
      ...TINY_TRAFFIC,
      "--scenarios",
      at("heldout"),
      "--out-dir",
      at("run2"),
    ]);
    assert.equal(train2.code, 2);
    assert.match(train2.stderr, /metadata\.seed: 107374182\d is a held-out seed/);
    assert.throws(() => Deno.statSync(at("run2/config.json")), Deno.errors.NotFound);
    // seeded sets are the same bytes every time, for the configuration given
    const config = at("config.json");
    Deno.writeTextFileSync(config, JSON.stringify({ traffic: { max_parked: 0 }, ppo: {} }));
    const seeded = ["scenarios", "--env", "traffic", "--count", "4", "--seed", "7", "--quiet"];
    for (const out of ["s1", "s2"]) {
      const g = await cli([...seeded, "--config", config, "--out-dir", at(out)]);
      assert.equal(g.code, 0, g.lines.join("\n"));
    }
    const plain = await cli([...seeded, "--out-dir", at("s3")]);
    assert.equal(plain.code, 0);
    const parked = [...Deno.readDirSync(at("s3"))]
      .filter((e) => (readJson(at(`s3/${e.name}`)) as Scenario).vehicles.length > 1);
    assert.ok(parked.length > 0, "the default configuration parks vehicles on some of these seeds");
    for (const e of Deno.readDirSync(at("s1"))) {
      const text = Deno.readTextFileSync(at(`s1/${e.name}`));
      assert.equal(Deno.readTextFileSync(at(`s2/${e.name}`)), text);
      const s = JSON.parse(text) as Scenario;
      assert.equal(s.vehicles.length, 1, `${e.name}: only the conflict vehicle, no parked ones`);
      assert.deepEqual(s.metadata, { generator: "delta-waypoint traffic", seed: s.metadata?.seed });
    }
    const straddle = await cli([
      "scenarios",
      "--env",
      "traffic",
      "--seed",
      "1073741823",
      "--count",
      "2",
      "--out-dir",
      at("x"),
    ]);
    assert.equal(straddle.code, 2);
    assert.match(straddle.lines[0], /seeds 1073741823\.\.1073741824 straddle 1073741824/);
    const driving = await cli(["eval", "--scenarios", at("heldout")]);
    assert.equal(driving.code, 2);
    assert.deepEqual(driving.lines, ["error: --scenarios: --env driving plays no scenario files"]);
  });
});

Deno.test("scenarios --overwrite that cannot write the new set leaves the old one as it was", async () => {
  const { writeScenarioSet } = await import("../src/run/mod.ts");
  const { DEFAULT_TRAFFIC_CONFIG, generateScenario, TRAFFIC_ENV, TRAFFIC_ENV_DEFAULTS } =
    await import("../src/env/mod.ts");
  const support = TRAFFIC_ENV.scenarios!;
  const cfg = { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG };
  const made = (seeds: number[]) => {
    const scenarios = seeds.map((s) => generateScenario(s, cfg));
    return { support, scenarios, sources: seeds.map((s) => `seed ${s}`) };
  };
  await withTempDir(async (dir) => {
    const out = join(dir, "set");
    const old = await writeScenarioSet(out, { ...made([1, 2, 3]), overwrite: false });
    const before = new Map(old.map((p) => [p, Deno.readFileSync(p)]));
    // the disk fills up at the new set's second file
    let writes = 0;
    const failing = async (path: string, bytes: Uint8Array) => {
      if (++writes === 2) {
        throw new Deno.errors.Interrupted("No space left on device (os error 28)");
      }
      await Deno.writeFile(path, bytes);
    };
    await assert.rejects(
      writeScenarioSet(out, { ...made([4, 5, 6, 7]), overwrite: true, write: failing }),
      /^UserError: --out-dir .*set: cannot write the scenario set: No space left on device \(os error 28\); the set already there is unchanged$/,
    );
    assert.equal(writes, 2);
    const left = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(left, old.map((p) => p.slice(out.length + 1)).sort(), "no staging left");
    for (const [p, bytes] of before) assert.deepEqual(Deno.readFileSync(p), bytes);
    // a staging folder a killed run left is cleared by the next write, and a smaller set
    // replaces the old one whole
    Deno.mkdirSync(join(out, ".scenarios-staging-killed"));
    Deno.writeTextFileSync(join(out, ".scenarios-staging-killed", "x.json"), "{}");
    const next = await writeScenarioSet(out, { ...made([8]), overwrite: true });
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), [
      next[0].slice(out.length + 1),
    ]);
  });
});
