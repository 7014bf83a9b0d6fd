/**
 * The traffic env's CLI as an unlucky user meets it: bad traffic settings, wherever
 * they come from (flags or a `--config` file), are one line on stderr and exit 2 from
 * `train`, `eval` and `scenarios` alike, before anything is written.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { mainInProcess, withTempDir } from "./_helpers.ts";

/** Runs the CLI in this process, with its stderr lines. */
const cli = mainInProcess;

Deno.test("a bad traffic section in --config: one line, exit 2, nothing written, in train, eval and scenarios", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["neighbors", { neighbors: 1e9 }, /traffic\.neighbors: expected an integer in \[0, 64\]/],
      ["mode", { vehicle_mode: "teleport" }, /traffic\.vehicle_mode: expected one of idm, replay/],
      ["penalty", { collision_penalty: -1 }, /traffic\.collision_penalty: expected a finite/],
    ];
    for (const [name, section, says] of cases) {
      const config = join(dir, `${name}.json`);
      Deno.writeTextFileSync(config, JSON.stringify({ traffic: section }));
      const out = join(dir, `out_${name}`);
      const commands = [
        ["train", "--env", "traffic", "--config", config, "--out-dir", out, "--quiet"],
        ["eval", "--env", "traffic", "--config", config, "--episodes", "1"],
        ["scenarios", "--env", "traffic", "--config", config, "--count", "1", "--out-dir", out],
      ];
      for (const args of commands) {
        const r = await cli(args);
        const what = `${args[0]} ${name}: exit ${r.code}: ${r.lines.join("\n")}`;
        assert.equal(r.code, 2, what);
        assert.equal(r.lines.length, 1, what);
        assert.match(r.lines[0], /^error: invalid configuration: /, what);
        assert.match(r.lines[0], says, what);
        assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, what);
      }
    }
  });
});

Deno.test("--scenarios on other JSON, paths below a file: one line naming the flag or file, exit 2", async () => {
  await withTempDir(async (dir) => {
    // a run folder's JSON (config.json, metrics.json) is not a scenario set
    const run = join(dir, "run");
    Deno.mkdirSync(run);
    Deno.writeTextFileSync(join(run, "config.json"), JSON.stringify({ out_dir: run, env: {} }));
    const file = join(dir, "file.txt");
    Deno.writeTextFileSync(file, "not a folder");
    const below = join(file, "sub");
    const cases: [string[], string][] = [
      [
        ["eval", "--env", "traffic", "--scenarios", run],
        `error: ${
          join(run, "config.json")
        }: format: missing: not a scenario file (see docs/scenario_format.md)`,
      ],
      [
        ["eval", "--env", "traffic", "--scenarios", below],
        `error: --scenarios ${below}: cannot use it: `,
      ],
      [
        ["scenarios", "--env", "traffic", "--count", "1", "--out-dir", below],
        `error: --out-dir ${below}: cannot use it: `,
      ],
      [
        ["scenarios", "--from-episodes", below, "--out-dir", join(dir, "out")],
        `error: --from-episodes ${below}: cannot use it: `,
      ],
    ];
    for (const [args, says] of cases) {
      const r = await cli(args);
      const what = `${args.join(" ")}: exit ${r.code}: ${r.lines.join("\n")}`;
      assert.equal(r.code, 2, what);
      assert.equal(r.lines.length, 1, what);
      assert.ok(r.lines[0].startsWith(says), what);
    }
    assert.throws(() => Deno.statSync(join(dir, "out")), Deno.errors.NotFound);
  });
});

/**
 * A logged drive heading south (yaw -π/2) at 8 m/s for 8 s, waypoints every 0.1 s for 1 s,
 * past a car parked 30 m ahead and 1.2 m to the left of the ego's path.
 */
function southboundEpisode(n = 80) {
  const dt = 0.1, horizon = 10, v = 8;
  const frames = Array.from({ length: n }, (_, k) => {
    const frame: Record<string, unknown> = {
      t: k * dt,
      observations: { state: { speed_mps: v, yaw_rad: -Math.PI / 2 } },
      agents: [{ id: 1, x: 30 - v * k * dt, y: 1.2, yaw: 0, length: 4.5, width: 1.9, speed: 0 }],
    };
    if (k + horizon < n) {
      frame.expert = {
        waypoints: Array.from({ length: horizon }, (_, j) => [v * (j + 1) * dt, 0]),
      };
    }
    return frame;
  });
  return {
    episode_id: "southbound",
    domain: "driving",
    waypoint_spec: { horizon_steps: horizon, dt, frame: "ego", units: "m" },
    frames,
  };
}

Deno.test("a scenario from a log: played wherever its coordinates lie; ADE/FDE against the logged path", async () => {
  await withTempDir(async (dir) => {
    const logs = join(dir, "logs"), set = join(dir, "set"), bare = join(dir, "bare");
    Deno.mkdirSync(logs);
    Deno.writeTextFileSync(join(logs, "e.json"), JSON.stringify(southboundEpisode()));
    const made = await cli(["scenarios", "--from-episodes", logs, "--out-dir", set, "--quiet"]);
    assert.equal(made.code, 0, made.lines.join("\n"));
    // the same scenario without its logged reference: ADE/FDE against the expert's plan
    const scenario = JSON.parse(Deno.readTextFileSync(join(set, "southbound.json")));
    assert.ok(Math.min(...scenario.route.y) < -50, "the route runs south of the origin");
    delete scenario.reference;
    Deno.mkdirSync(bare);
    Deno.writeTextFileSync(join(bare, "southbound.json"), JSON.stringify(scenario));
    type Doc = { scenarios: Record<string, number>[] };
    const evaluate = async (scenarios: string): Promise<Doc[]> => {
      const output = `${scenarios}.eval.json`;
      const r = await cli([
        "eval",
        "--env",
        "traffic",
        "--scenarios",
        scenarios,
        "--policy",
        "expert",
        "--policy",
        "sft",
        "--output",
        output,
      ]);
      assert.equal(r.code, 0, r.lines.join("\n"));
      return JSON.parse(Deno.readTextFileSync(output));
    };
    const [expert, sft] = (await evaluate(set)).map((d) => d.scenarios[0]);
    // the expert steers around the parked car to the goal, below y = 0 all the way
    assert.equal(expert.success, true);
    assert.equal(expert.offroad, 0);
    assert.equal(expert.collisions, 0);
    // measured against the logged path, which runs through the parked car's corner
    assert.ok(expert.ade > 0.2, `expert ADE ${expert.ade}`);
    // the SFT planner keeps to the logged path and hits the car
    assert.equal(sft.collisions, 1);
    const [bareExpert] = (await evaluate(bare)).map((d) => d.scenarios[0]);
    assert.equal(bareExpert.ade, 0);
    assert.equal(bareExpert.success, true);
  });
});

Deno.test("resuming a traffic run: a moved set folder or other neighbours are one line naming what", async () => {
  await withTempDir(async (dir) => {
    const set = join(dir, "set"), moved = join(dir, "moved"), run = join(dir, "run");
    const made = await cli(["scenarios", "--env", "traffic", "--count", "3", "--out-dir", set]);
    assert.equal(made.code, 0, made.lines.join("\n"));
    const small = ["--episodes", "20", "--num-envs", "5", "--eval-interval", "10"];
    small.push("--warm-start-rounds", "1", "--warm-start-episodes", "10");
    const trained = await cli([
      "train",
      "--env",
      "traffic",
      "--scenarios",
      set,
      ...small,
      "--save-interval",
      "10",
      "--eval-episodes",
      "2",
      "--heldout-episodes",
      "2",
      "--out-dir",
      run,
      "--quiet",
    ]);
    assert.equal(trained.code, 0, trained.lines.join("\n"));
    Deno.renameSync(set, moved);
    const ckpt = join(run, "checkpoints", "checkpoint_10.pt");
    const again = join(dir, "again");
    const r = await cli(["train", "--resume", ckpt, "--out-dir", again, "--quiet"]);
    assert.equal(r.code, 2);
    assert.deepEqual(r.lines, [
      `error: --resume ${ckpt}: its scenario set ${set}: folder not found (pass --scenarios DIR where the set is now)`,
    ]);
    assert.throws(() => Deno.statSync(again), Deno.errors.NotFound);
    // how many vehicles it observes is the delta head's input size: kept
    const k = await cli(["train", "--resume", ckpt, "--scenarios", moved, "--neighbors", "4"]);
    assert.deepEqual(k.lines, [
      `error: --resume ${ckpt}: its delta head takes observations of 89 numbers; the flags and --config make them 49, and a resumed run keeps its observation size`,
    ]);
    assert.equal(k.code, 2);
    const there = await cli([
      "train",
      "--resume",
      ckpt,
      "--scenarios",
      moved,
      "--out-dir",
      again,
      "--quiet",
    ]);
    assert.equal(there.code, 0, there.lines.join("\n"));
  });
});

Deno.test("scenarios --from-episodes never writes a scenario file too big to read back", async () => {
  await withTempDir(async (dir) => {
    // 200 frames of 256 logged cars: 51,200 trajectory samples, over 4 MiB as a scenario file
    const episode = southboundEpisode(200);
    for (const [k, frame] of episode.frames.entries()) {
      frame.agents = Array.from({ length: 256 }, (_, id) => ({
        id,
        x: 40 + 7.123456789012345 * id - 0.8 * k,
        y: 30.123456789012345,
        yaw: 0.123456789012345,
        length: 4.5,
        width: 1.9,
      }));
    }
    const logs = join(dir, "logs"), out = join(dir, "out"), file = join(logs, "e.json");
    Deno.mkdirSync(logs);
    Deno.writeTextFileSync(file, JSON.stringify(episode));
    const r = await cli(["scenarios", "--from-episodes", logs, "--out-dir", out]);
    assert.equal(r.code, 2, r.lines.join("\n"));
    assert.equal(r.lines.length, 1, r.lines.join("\n"));
    assert.match(
      r.lines[0],
      new RegExp(
        `^error: ${file}: the scenario file made from it is \\d+ bytes, over the limit of 4194304 bytes, so it could not be read back$`,
      ),
    );
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  });
});

Deno.test("a seeded set played from its files is the seeded play: every episode's metrics equal", async () => {
  await withTempDir(async (dir) => {
    const set = join(dir, "heldout");
    const first = String(2 ** 30); // eval's default first seed
    const made = await cli([
      "scenarios",
      "--env",
      "traffic",
      "--count",
      "8",
      "--seed",
      first,
      "--out-dir",
      set,
    ]);
    assert.equal(made.code, 0, made.lines.join("\n"));
    const policies = ["--policy", "sft", "--policy", "expert"];
    const fromFiles = join(dir, "files.json"), seeded = join(dir, "seeded.json");
    const a = await cli([
      "eval",
      "--env",
      "traffic",
      "--scenarios",
      set,
      ...policies,
      "--output",
      fromFiles,
    ]);
    const b = await cli([
      "eval",
      "--env",
      "traffic",
      "--episodes",
      "8",
      ...policies,
      "--output",
      seeded,
    ]);
    assert.equal(a.code + b.code, 0, [...a.lines, ...b.lines].join("\n"));
    // what was played and how it went; not the names (scenario_id, raw.seed)
    const played = (path: string) =>
      (JSON.parse(Deno.readTextFileSync(path)) as { scenarios: Record<string, unknown>[] }[])
        .map((doc) => doc.scenarios.map(({ scenario_id: _, raw: __, ...m }) => m));
    const files = played(fromFiles);
    assert.deepEqual(files, played(seeded));
    assert.equal(
      files[1].filter((m) => m.success === true).length,
      8,
      "the expert reaches every goal",
    );
  });
});
