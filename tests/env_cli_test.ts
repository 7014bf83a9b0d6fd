/**
 * `--env` through the CLI, spawned as a user runs it: a module env (`examples/pendulum.ts`)
 * trained, evaluated, reported, run over seeds and emitted as cluster jobs; an env's own
 * `--help`; the commands that cannot serve an env refuse it; bad `--env` values; the
 * rollout cap said on stderr.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, runCli, withTempDir } from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";

/** `deno run main.ts ...args` with read, write and run permissions (as `deno task train`). */
const cli = (args: string[]) => runCli(args, { allowRun: true });

/** One line on stderr starting `error: ` and matching `pattern`, exit 2. */
function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
}

const PENDULUM = "./examples/pendulum.ts";
// 20 episodes of 200 steps, 5 a rollout (over pendulum's own defaults: 200k steps, 4000 a rollout)
const TINY = "--total-steps 4000 --steps-per-update 1000 --num-envs 5 --eval-interval 10 " +
  "--save-interval 10 --eval-episodes 2 --heldout-episodes 4 --quiet";

Deno.test("a module env from the command line: train, eval, report, --seeds, --emit", async (t) => {
  await withTempDir(async (dir) => {
    const run = join(dir, "run");
    await t.step("train writes the run with the env's own section and env.json", async () => {
      const r = await cli(["train", "--env", PENDULUM, ...TINY.split(" "), "--out-dir", run]);
      assert.equal(r.code, 0, r.stderr);
      const config = readJson(join(run, "config.json")) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config), ["out_dir", "sft_model", "env_name", "env", "ppo"]);
      assert.equal(config.env_name, "pendulum");
      assert.deepEqual(config.env, { max_episode_steps: 200, g: 10 });
      const ppo = config.ppo as Record<string, number>;
      assert.equal(ppo.encoder_out_dim, 3);
      assert.equal(ppo.delta_clip, 2, "from the action Box");
      const env = readJson(join(run, "env.json")) as Record<string, unknown>;
      assert.deepEqual([env.id, env.kind, env.spec, env.base_policy], [
        "pendulum",
        "module",
        PENDULUM,
        "zero",
      ]);
      const entry = (readJson(join(run, "metrics.json")) as Record<string, unknown>[])[0];
      assert.ok("base_heldout" in entry && !("sft_heldout" in entry));
      const tm = readJson(join(run, "train_metrics.json")) as Record<string, unknown>;
      assert.ok("base_eval" in tm && !("sft_eval" in tm));
      assert.deepEqual(Object.keys(tm.heldout as object), ["seeds", "base", "refined"]);
      assert.match(r.stdout, /^base policy +-?\d/m);
    });
    await t.step("eval of it names the module; without it, one line", async () => {
      const out = join(dir, "eval.json");
      const args = ["eval", "--policy", join(run, "final.pt"), "--episodes", "3"];
      const r = await cli([...args, "--env", PENDULUM, "--policy", "base", "--output", out]);
      assert.equal(r.code, 0, r.stderr);
      const [trained, base] = readJson(out) as Array<{ summary: Record<string, number> }>;
      assert.equal(trained.summary.num_episodes, 3);
      assert.equal(base.summary.delta_norm_mean, 0);
      assertRefused(
        await cli(args),
        /trained on env 'pendulum', which is not built in; name it with --env/,
      );
      assertRefused(
        await cli([...args, "--env", "mountain_car"]),
        /--env mountain_car: .* was trained on env 'pendulum', not 'mountain_car'/,
      );
    });
    await t.step("report reads env.json, never the module", async () => {
      const r = await cli(["report", run]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(Deno.readTextFileSync(join(run, "report.svg")), /env pendulum/);
    });
    const seeds = join(dir, "seeds");
    await t.step("--seeds and aggregate", async () => {
      const r = await cli([
        "train",
        "--env",
        PENDULUM,
        "--seeds",
        "1-2",
        ...TINY.split(" "),
        "--out-dir",
        seeds,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^base policy alone: return /m);
      const a = await cli(["aggregate", seeds]);
      assert.equal(a.code, 0, a.stderr);
      const s = readJson(join(seeds, "summary.json")) as Record<string, unknown>;
      assert.equal(s.env_name, "pendulum");
      assert.deepEqual(s.finished, [1, 2]);
      assert.equal((await cli(["report", seeds])).code, 0);
    });
    await t.step("--emit slurm carries the module path", async () => {
      const emit = join(dir, "emit");
      const r = await cli([
        "train",
        "--env",
        PENDULUM,
        "--seeds",
        "1-2",
        "--emit",
        "slurm",
        "--out-dir",
        emit,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        Deno.readTextFileSync(join(emit, "slurm_array.sh")),
        /--task-index .* --env \.\/examples\/pendulum\.ts$/m,
      );
    });
  });
});

Deno.test("train --env X --help shows X's own defaults and flags under its heading", async () => {
  const traffic = await cli(["train", "--env", "traffic", "--help"]);
  assert.equal(traffic.code, 0, traffic.stderr);
  for (
    const line of [
      /^ {2}--episodes N +training episodes \(default 4000\)$/m,
      /^ {2}--lr X +Adam learning rate \(default 0\.0003\)$/m,
      /^ {2}--delta-clip X +bound on \|delta\|, meters \(default 12\)$/m,
      /^Traffic: the driving part .*\(--env traffic\):\n(.*\n)* {2}--horizon-steps N +waypoints per plan \(H\) \(default 4\)$/m,
      /^Traffic: the other vehicles \(--env traffic\):\n {2}--neighbors N /m,
      /--vehicle-mode MODE /,
    ]
  ) assert.match(traffic.stdout, line);
  const car = await cli(["train", "--env", "mountain_car", "--help"]);
  assert.match(car.stdout, /--episodes N +training episodes \(default 192\)/);
  assert.match(car.stdout, /^Mountain car \(--env mountain_car\):\n {2}--max-episode-steps N /m);
  assert.doesNotMatch(car.stdout, /--world-size|--neighbors/);
  // every flag that takes a value shows its placeholder (a long one ends its line)
  for (const help of [traffic.stdout, car.stdout]) {
    for (const m of help.matchAll(/^ {2}(--[a-z-]+)( [A-Za-z][A-Za-z0-9,:|]*)?(?: |$)/gm)) {
      const boolean = ["--overwrite", "--quiet", "--eval-worker"].includes(m[1]);
      assert.ok(boolean || m[2], `${m[1]} has no placeholder`);
    }
  }
});

Deno.test("a command that cannot serve an env refuses it in one line, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    assertRefused(
      await cli(["sft", "--env", "mountain_car", "--out-dir", out]),
      /--env mountain_car: sft clones an expert's waypoint plans .* has no expert to clone/,
    );
    assertRefused(
      await cli(["train", "--env", "mountain_car", "--sft-model", "x.pt", "--out-dir", out]),
      /--sft-model: --env mountain_car takes no planner file/,
    );
    assertRefused(
      await cli(["eval", "--env", "mountain_car", "--policy", "expert"]),
      /--policy expert: not a planner of --env mountain_car/,
    );
    assertRefused(
      await cli(["train", "--neighbors", "4", "--out-dir", out]),
      /^error: --neighbors: only for --env traffic, not driving$/,
    );
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  });
});

Deno.test("bad --env values: one line, exit 2, nothing written", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const broken = join(dir, "broken.ts"), notEnv = join(dir, "not_env.ts");
    Deno.writeTextFileSync(broken, 'throw new Error("broken on purpose");\n');
    Deno.writeTextFileSync(notEnv, 'export default { id: "x", description: "", sections: [] };\n');
    const cases: Array<[string[], RegExp]> = [
      [["--env", "nosuch"], /--env nosuch: not a built-in env \(driving, mountain_car, traffic\)/],
      [["--env", broken], /--env .*broken\.ts: cannot import the module: .*broken on purpose/],
      [["--env", notEnv], /--env .*not_env\.ts: make: expected a function/],
      [["--env", "./nosuch.ts"], /--env \.\/nosuch\.ts: cannot import the module/],
      [["--gym-python", "python3"], /--gym-python: only with --env gym:ID/],
    ];
    for (const [flags, pattern] of cases) {
      assertRefused(await cli(["train", ...flags, "--out-dir", out]), pattern);
    }
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  });
});

Deno.test("--num-envs above the eval interval is said on stderr, once, at the start", async () => {
  await withTempDir(async (dir) => {
    const r = await cli([
      "train",
      "--env",
      PENDULUM,
      ...TINY.replace("--num-envs 5", "--num-envs 20 --steps-per-update 0").split(" "),
      "--out-dir",
      join(dir, "run"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "warning: --num-envs 20 > --eval-interval 10: a rollout ends at every eval and save point, so each update holds at most 10 episodes\n",
    );
  });
});
