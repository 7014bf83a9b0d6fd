/**
 * Bad and hostile scenario files given to `eval --scenarios` and `train --scenarios` (and
 * episode files to `scenarios --from-episodes`): every fault is exit code 2 and one line
 * on stderr naming the file (and the field), never a stack trace, before anything is
 * written. The field-by-field cases run `main()` in this process; the hostile ones
 * (devices, FIFOs, deep nesting, files over the size limit) run the CLI in a child
 * process whose peak memory must stay under 300 MB.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { scenarioJson } from "../src/env/mod.ts";
import type { Scenario } from "../src/env/mod.ts";
import { mainInProcess, withTempDir } from "./_helpers.ts";
import { type Case, runCases } from "./_hostile_cases.ts";

/** A valid scenario with one replayed and one IDM vehicle and a reference. */
function goodScenario(id: string): Scenario {
  return {
    format: "delta-waypoint/scenario",
    version: 1,
    id,
    kind: "slow_lead",
    route: { x: [0, 50, 100], y: [0, 0, 5] },
    ego: { x: 0, y: 0, yaw: 0, speed: 8 },
    vehicles: [
      {
        id: "parked",
        length: 4.5,
        width: 1.9,
        mode: "replay",
        trajectory: [0, 0.1, 0.2, 0.3, 0.4, 0.5].map((t) => ({
          t,
          x: 30,
          y: 3.2,
          yaw: 0,
          speed: 0,
        })),
      },
      {
        id: "lead",
        length: 4.5,
        width: 1.9,
        mode: "idm",
        path: { x: [0, 50, 100, 180], y: [0, 0, 5, 5] },
        start_s: 20,
        speed: 4,
        idm: {
          desired_speed: 4,
          time_headway: 1.5,
          min_gap: 2,
          max_accel: 1.5,
          comfort_decel: 2,
          exponent: 4,
        },
      },
    ],
    reference: [{ t: 0, x: 0, y: 0, yaw: 0, speed: 8 }, { t: 0.1, x: 0.8, y: 0, yaw: 0, speed: 8 }],
    metadata: { source: "test" },
  };
}

/** Runs the CLI in this process, with its stderr lines. */
const cli = mainInProcess;

// deno-lint-ignore no-explicit-any
type Loose = any; // the cases break the scenario's shape on purpose

Deno.test("a bad scenario file is one line naming the file and the field, exit 2", async () => {
  const cases: [string, (s: Loose) => void, RegExp][] = [
    [
      "format",
      (s) => (s.format = "scenario"),
      /^format: must be "delta-waypoint\/scenario", got "scenario"$/,
    ],
    ["version", (s) => (s.version = 2), /^version: this build reads version 1, got 2$/],
    ["no_id", (s) => delete s.id, /^id: missing$/],
    ["id_ctrl", (s) => (s.id = "a\nb"), /^id: must not hold control characters$/],
    ["typo", (s) => (s.vehicels = []), /^vehicels: unknown field$/],
    [
      "route_short",
      (s) => (s.route = { x: [0], y: [0] }),
      /^route\.x: must have at least 2 entries, has 1$/,
    ],
    ["route_xy", (s) => s.route.y.push(9), /^route\.y: has 4 points, x has 3$/],
    [
      "route_repeat",
      (s) => (s.route.x[1] = 0) && (s.route.y[1] = 0),
      /^route: point 1 repeats point 0/,
    ],
    [
      // 1e-300 squared is 0: the env could not give the segment a length or direction
      "route_tiny",
      (s) => (s.route = { x: [0, 1e-300], y: [0, 0] }),
      /^route: point 1 is 1\.00e-300 m from point 0, closer than the minimum of 0\.001 m$/,
    ],
    [
      "path_tiny",
      (s) => (s.vehicles[1].path = { x: [0, 50, 50.0001], y: [0, 0, 0] }),
      /^vehicles\[1\]\.path: point 2 is 0\.000100 m from point 1, closer than the minimum of 0\.001 m$/,
    ],
    [
      "route_nan",
      (s) => (s.route.x[2] = "NaN"),
      /^route\.x\[2\]: must be a finite number, got "NaN"$/,
    ],
    [
      "route_far",
      (s) => (s.route.x[2] = 1e300),
      /^route\.x\[2\]: must be <= 1000000, got 1e\+300$/,
    ],
    [
      "route_long",
      (s) => (s.route = { x: [0, 1e6, -1e6], y: [0, 0, 0] }),
      /^route: is 3000000 m long, over the limit of 10000 m$/,
    ],
    ["ego_speed", (s) => (s.ego.speed = -1), /^ego\.speed: must be >= 0, got -1$/],
    ["ego_null", (s) => (s.ego = null), /^ego: must be an object, got null$/],
    [
      "mode",
      (s) => (s.vehicles[0].mode = "parked"),
      /^vehicles\[0\]\.mode: must be "replay" or "idm", got "parked"$/,
    ],
    [
      "dup_vehicle",
      (s) => (s.vehicles[1].id = "parked"),
      /^vehicles\[1\]\.id: "parked" is also vehicles\[0\]'s id$/,
    ],
    [
      "t_order",
      (s) => (s.vehicles[0].trajectory[5].t = 0.2),
      /^vehicles\[0\]\.trajectory\[5\]\.t: must increase \(0\.2 after 0\.4\)$/,
    ],
    [
      "empty_traj",
      (s) => (s.vehicles[0].trajectory = []),
      /^vehicles\[0\]\.trajectory: must have at least 1 entries, has 0$/,
    ],
    ["size", (s) => (s.vehicles[0].length = 0), /^vehicles\[0\]\.length: must be > 0, got 0$/],
    [
      "idm_param",
      (s) => (s.vehicles[1].idm.time_headway = 0),
      /^vehicles\[1\]\.idm\.time_headway: must be > 0, got 0$/,
    ],
    [
      "idm_missing",
      (s) => delete s.vehicles[1].idm.exponent,
      /^vehicles\[1\]\.idm\.exponent: missing$/,
    ],
    [
      "start_s",
      (s) => (s.vehicles[1].start_s = 500),
      /^vehicles\[1\]\.start_s: must be <= 1\d\d\.\d+, got 500$/,
    ],
    ["replay_extra", (s) => (s.vehicles[0].idm = {}), /^vehicles\[0\]\.idm: unknown field$/],
    ["reference", (s) => s.reference.pop(), /^reference: must have at least 2 entries, has 1$/],
    [
      "metadata",
      (s) => (s.metadata.nested = { a: 1 }),
      /^metadata\.nested: must be a string, a finite number or a boolean, got an object$/,
    ],
    [
      "vehicles_many",
      (s) => (s.vehicles = Array.from({ length: 257 }, () => s.vehicles[0])),
      /^vehicles: has 257 entries, over the limit of 256$/,
    ],
    [
      "points_many",
      (s) => (s.route = {
        x: Array.from({ length: 10_001 }, (_, i) => i),
        y: new Array(10_001).fill(0),
      }),
      /^route\.x: has 10001 entries, over the limit of 10000$/,
    ],
    ["list", (s) => (s.vehicles = {}), /^vehicles: must be a list, got an object$/],
  ];
  await withTempDir(async (dir) => {
    for (const [name, edit, says] of cases) {
      const set = join(dir, name);
      Deno.mkdirSync(set);
      Deno.writeTextFileSync(join(set, "a.json"), scenarioJson(goodScenario("a")));
      const bad = structuredClone(goodScenario("z")) as Loose;
      edit(bad);
      const file = join(set, "z.json");
      Deno.writeTextFileSync(file, JSON.stringify(bad));
      const r = await cli(["eval", "--env", "traffic", "--scenarios", set]);
      assert.equal(r.code, 2, `${name}: exit ${r.code} ${r.lines}`);
      assert.equal(r.lines.length, 1, `${name}: ${r.lines.join("\n")}`);
      const prefix = `error: ${file}: `;
      assert.ok(r.lines[0].startsWith(prefix), `${name}: ${r.lines[0]}`);
      assert.match(r.lines[0].slice(prefix.length), says, `${name}: ${r.lines[0]}`);
    }
    // across files of a set: ids unique; a folder with at least one and at most 10,000
    const dup = join(dir, "dup");
    Deno.mkdirSync(dup);
    Deno.writeTextFileSync(join(dup, "a.json"), scenarioJson(goodScenario("same")));
    Deno.writeTextFileSync(join(dup, "b.json"), scenarioJson(goodScenario("same")));
    const r = await cli([
      "train",
      "--env",
      "traffic",
      "--scenarios",
      dup,
      "--out-dir",
      join(dir, "run"),
    ]);
    assert.deepEqual(r.lines, [
      `error: ${join(dup, "b.json")}: id: "same" is also ${join(dup, "a.json")}'s id`,
    ]);
    assert.throws(() => Deno.statSync(join(dir, "run")), Deno.errors.NotFound);
    const empty = join(dir, "empty");
    Deno.mkdirSync(empty);
    Deno.writeTextFileSync(join(empty, "README.md"), "no scenarios");
    const folderCases: [string, string][] = [
      [empty, "holds no scenario files (*.json)"],
      [join(dir, "missing"), "folder not found"],
      [join(empty, "README.md"), "not a folder"],
    ];
    for (const [path, says] of folderCases) {
      const f = await cli(["eval", "--env", "traffic", "--scenarios", path]);
      assert.equal(f.code, 2);
      assert.deepEqual(f.lines, [`error: --scenarios ${path}: ${says}`]);
    }
    const many = join(dir, "many");
    Deno.mkdirSync(many);
    for (let i = 0; i <= 10_000; i++) Deno.writeTextFileSync(join(many, `${i}.json`), "");
    const m = await cli(["eval", "--env", "traffic", "--scenarios", many]);
    assert.equal(m.code, 2);
    assert.deepEqual(m.lines, [
      `error: --scenarios ${many}: holds more than 10000 .json files, the limit`,
    ]);
  });
});

Deno.test("hostile scenario and episode files: exit 2, one line naming the file, bounded memory", async () => {
  await withTempDir(async (dir) => {
    const cases: Case[] = [];
    const fifos: string[] = [];
    const add = (name: string, make: (file: string) => void, says: RegExp) => {
      for (const kind of ["scenarios", "episodes"]) {
        const set = join(dir, `${kind}_${name}`);
        Deno.mkdirSync(set);
        const file = join(set, "x.json");
        make(file);
        const args = kind === "scenarios"
          ? ["eval", "--env", "traffic", "--scenarios", set]
          : ["scenarios", "--from-episodes", set, "--out-dir", join(dir, `out_${name}`)];
        cases.push({ args, names: file, startsWith: `error: ${file}: `, says });
      }
    };
    add(
      "zero",
      (f) => Deno.symlinkSync("/dev/zero", f),
      /not a regular file \(a character device\)/,
    );
    add("fifo", (f) => fifos.push(f), /not a regular file \(a FIFO\)/);
    add(
      "deep",
      (f) => Deno.writeTextFileSync(f, "[".repeat(500_000) + "]".repeat(500_000)),
      /nests arrays and objects deeper than the limit of (8|32)$/,
    );
    add(
      "string",
      (f) => Deno.writeTextFileSync(f, `{"id": "${"a".repeat(70_000)}"}`),
      /holds a string of 70000 bytes, over the limit of (4096|65536) bytes$/,
    );
    add(
      "huge",
      (f) => {
        using h = Deno.openSync(f, { write: true, create: true });
        h.truncateSync(16 * 1024 * 1024 + 1); // sparse: no disk used
      },
      /file is 16777217 bytes, over the limit of (4194304|16777216) bytes for an? (scenario|episode) file$/,
    );
    // 3.8 MB of numbers, under the scenario limit: parsed, then refused by shape
    add(
      "numbers",
      (f) => Deno.writeTextFileSync(f, `[${"0,".repeat(1_900_000)}0]`),
      /: must be an object, got a list$/,
    );
    const mkfifo = await new Deno.Command("mkfifo", { args: fifos }).output();
    assert.equal(mkfifo.code, 0, "mkfifo");
    await runCases(cases, dir, { workers: 2 });
  });
});
