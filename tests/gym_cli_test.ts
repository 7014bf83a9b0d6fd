/**
 * `--env gym:ID` through the CLI, spawned as a user runs it: train, eval, `--seeds` and
 * `--emit` on Gymnasium's Pendulum-v1 with tiny budgets; every bad input before a run is
 * one line, exit 2, nothing written; a worker that dies mid-run leaves a checkpoint and
 * exits 4 with its last stderr line; no worker outlives the command. Needs the test
 * Python (`testPython()`): fails, never skips, without it.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { readJson, ROOT, runCli, waitFor, withTempDir } from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";
import { testPython } from "./_python.ts";

const FIXTURES = join(ROOT, "tests", "fixtures", "gym_envs");

/** `deno run main.ts ...args` with read, write and run permissions (as `deno task train`). */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { allowRun: true, env });

/**
 * The test Python under a path of this test's own (the venv linked into `dir`), so that
 * its workers are told apart from other processes' in `ps`.
 */
function ownPython(dir: string): string {
  const venv = join(dirname(testPython()), "..");
  Deno.symlinkSync(venv, join(dir, "venv")); // the venv itself, so Python still finds it
  return join(dir, "venv", "bin", "python");
}

/** Workers of `python` running now (their command line starts with it). */
async function workers(python: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const out = await new Deno.Command("ps", { args: ["-eo", "args="] }).output();
    const n = new TextDecoder().decode(out.stdout).split("\n")
      .filter((l) => l.startsWith(`${python} -u -c`)).length;
    if (n === 0) return 0;
    await new Promise((r) => setTimeout(r, 100)); // a worker ending after its parent
  }
  return -1;
}

function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
}

// 4 episodes of 20 steps, 2 a rollout (over the generic defaults: 1M steps, 2048 a rollout)
const TINY = "--max-episode-steps 20 --total-steps 80 --steps-per-update 40 --num-envs 2 " +
  "--eval-interval 2 --save-interval 2 --eval-episodes 1 --heldout-episodes 2 --quiet";

Deno.test("gym:Pendulum-v1: train, eval, --seeds and --emit; the worker is closed", async (t) => {
  await withTempDir(async (dir) => {
    const python = ownPython(dir);
    const gym = ["--env", "gym:Pendulum-v1", "--gym-python", python];
    const run = join(dir, "run");
    await t.step("train records the env's section: id, kwargs, modules, episode cap", async () => {
      const r = await cli(["train", ...gym, ...TINY.split(" "), "--out-dir", run]);
      assert.equal(r.code, 0, r.stderr);
      const config = readJson(join(run, "config.json")) as Record<string, unknown>;
      assert.equal(config.env_name, "gym:Pendulum-v1");
      assert.deepEqual(config.env, {
        id: "Pendulum-v1",
        kwargs: {},
        modules: [],
        max_episode_steps: 20,
        success: false,
      });
      assert.equal((config.ppo as Record<string, number>).encoder_out_dim, 3);
      const tm = readJson(join(run, "train_metrics.json")) as { lengths: number[] };
      assert.deepEqual(tm.lengths, [20, 20, 20, 20]);
      assert.equal((readJson(join(run, "env.json")) as { kind: string }).kind, "gym");
      assert.equal(await workers(python), 0);
    });
    await t.step("eval names the env again; a file alone starts no worker", async () => {
      const policy = ["--policy", join(run, "final.pt"), "--episodes", "2"];
      const r = await cli(["eval", ...gym, ...policy, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).summary.num_episodes, 2);
      assertRefused(
        await cli(["eval", ...policy]),
        /trained on env 'gym:Pendulum-v1', which is not built in/,
      );
      assertRefused(
        await cli(["eval", ...gym, "--gym-kwargs", '{"g": 9}', ...policy]),
        /final\.pt: env_cfg\.kwargs records \{\}, the command line names \{"g":9\}/,
      );
      assert.equal(await workers(python), 0);
    });
    await t.step(
      "--seeds trains each seed; --emit carries the env's flags and --allow-run",
      async () => {
        const seeds = join(dir, "seeds");
        const r = await cli([
          "train",
          ...gym,
          "--seeds",
          "1-2",
          ...TINY.split(" "),
          "--out-dir",
          seeds,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          (readJson(join(seeds, "summary.json")) as { finished: number[] }).finished,
          [1, 2],
        );
        const emit = join(dir, "emit");
        const e = await cli([
          "train",
          ...gym,
          "--seeds",
          "1-2",
          "--emit",
          "slurm",
          "--out-dir",
          emit,
        ]);
        assert.equal(e.code, 0, e.stderr);
        const slurm = Deno.readTextFileSync(join(emit, "slurm_array.sh"));
        assert.match(slurm, /^ {2}program=\(.* --allow-run .*main\.ts\)$/m);
        assert.ok(slurm.includes(`--env gym:Pendulum-v1 --gym-python ${python}`));
        assert.equal(await workers(python), 0);
      },
    );
    await t.step("--eval-worker falls back to the training thread, saying why", async () => {
      const r = await cli([
        "train",
        ...gym,
        ...TINY.split(" "),
        "--eval-worker",
        "--out-dir",
        join(dir, "w"),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /--eval-worker: the Gymnasium bridge's envs run in this process; the evaluations ran on the training thread/,
      );
    });
  });
});

Deno.test("gym: --gym-success true reads info['is_success']: success in the tables, files and eval", async () => {
  await withTempDir(async (dir) => {
    const python = ownPython(dir);
    // DWTest/Goal-v0 walks by the action and reports is_success at x >= 1 (two steps of 0.5)
    const gym = ["--env", "gym:DWTest/Goal-v0", "--gym-python", python, "--gym-module"];
    const flags = [...gym, "dw_test_envs", ...TINY.split(" "), "--total-steps", "400"];
    const env = { PYTHONPATH: FIXTURES };
    const run = join(dir, "run");
    const r = await cli(["train", ...flags, "--gym-success", "true", "--out-dir", run], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /policy +mean return +success/);
    assert.equal(
      (readJson(join(run, "config.json")) as { env: { success: boolean } }).env.success,
      true,
    );
    assert.equal((readJson(join(run, "env.json")) as { has_success: boolean }).has_success, true);
    const tm = readJson(join(run, "train_metrics.json")) as {
      successes: number[];
      heldout: { refined: { success_rate: number } };
    };
    // the random walk of the first episodes reaches the goal sometimes, the policy learns to
    assert.ok(tm.successes.some((x) => x === 1) && tm.successes.some((x) => x === 0));
    assert.equal(tm.heldout.refined.success_rate, 1);
    // eval takes the setting from the checkpoint
    const e = await cli(["eval", ...gym, "dw_test_envs", "--policy", run, "--episodes", "3"], env);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /success/);
    // without the flag: no success anywhere (the env has no declared goal)
    const plain = join(dir, "plain");
    const p = await cli(["train", ...flags, "--out-dir", plain], env);
    assert.equal(p.code, 0, p.stderr);
    assert.doesNotMatch(p.stdout, /success/);
    assert.equal(
      (readJson(join(plain, "env.json")) as { has_success: boolean }).has_success,
      false,
    );
    assert.equal(await workers(python), 0);
  });
});

Deno.test("gym: every bad input is one line, exit 2, nothing written", async () => {
  await withTempDir(async (dir) => {
    const python = ownPython(dir);
    const out = join(dir, "out");
    const fixtures = { PYTHONPATH: FIXTURES };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [
        ["gym:Pendulum-v1", "--gym-python", "/nonexistent/python"],
        {},
        /--gym-python \/nonexistent\/python: no such file/,
      ],
      [
        ["gym:Pendulum-v1", "--gym-python", python],
        { PYTHONPATH: join(FIXTURES, "no_gymnasium") },
        /gymnasium is not importable/,
      ],
      [
        ["gym:NoSuchEnv-v9", "--gym-python", python],
        {},
        /gym:NoSuchEnv-v9: gymnasium\.make failed/,
      ],
      [
        ["gym:Pendulum-v1", "--gym-python", python, "--gym-module", "dw_broken_module"],
        fixtures,
        /--gym-module dw_broken_module: .*fails on import on purpose/,
      ],
      [
        ["gym:CartPole-v1", "--gym-python", python],
        {},
        /gym:CartPole-v1: the action space is Discrete\(2\); only Box/,
      ],
      [
        ["gym:Pendulum-v1", "--gym-python", python, "--gym-kwargs", "[1]"],
        {},
        /--gym-kwargs: expected a JSON object/,
      ],
    ];
    for (const [env, vars, pattern] of cases) {
      assertRefused(await cli(["train", "--env", ...env, "--out-dir", out], vars), pattern);
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    }
    assert.equal(await workers(python), 0);
  });
});

Deno.test("gym: a worker that dies mid-run leaves a checkpoint and exits 4 with its last line", async () => {
  await withTempDir(async (dir) => {
    const python = ownPython(dir);
    const out = join(dir, "run");
    // the training worker's row 0 dies at step 5 of its 4th episode (iteration 4)
    const r = await cli([
      "train",
      "--env",
      "gym:DWTest/Faulty-v0",
      "--gym-python",
      python,
      "--gym-module",
      "dw_test_envs",
      "--gym-kwargs",
      '{"fault": "die", "at_step": 5, "at_episode": 3}',
      "--max-episode-steps",
      "10",
      ...["--episodes", "20", "--total-steps", "0", "--steps-per-update", "0", "--num-envs", "2"],
      ...["--eval-interval", "4", "--save-interval", "2"],
      ...["--eval-episodes", "1", "--heldout-episodes", "2", "--quiet", "--out-dir", out],
    ], { PYTHONPATH: FIXTURES });
    assert.equal(r.code, 4, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    const checkpoint = join(out, "checkpoints", "checkpoint_6.pt");
    assert.equal(
      lines.at(-3),
      `train: interrupted at episode 6 (the iteration in progress was dropped); saved ${checkpoint}`,
    );
    // the command that continues the run names the env again, with its flags
    assert.equal(
      lines.at(-2),
      `train: continue with \`deno task train --resume ${checkpoint} --env gym:DWTest/Faulty-v0 --gym-python ${python} --gym-module dw_test_envs --gym-kwargs '{"fault": "die", "at_step": 5, "at_episode": 3}'\``,
    );
    assert.match(
      lines.at(-1)!,
      /^error: gym:DWTest\/Faulty-v0: the worker exited with code 3 during step \d+: dying on purpose at step 5$/,
    );
    const tm = readJson(join(out, "train_metrics.json")) as {
      interrupted: boolean;
      rewards: number[];
    };
    assert.equal(tm.interrupted, true);
    assert.equal(tm.rewards.length, 6);
    assert.equal(await workers(python), 0);
  });
});

Deno.test("gym: Ctrl-C saves a checkpoint and closes the workers", async () => {
  await withTempDir(async (dir) => {
    const python = ownPython(dir);
    const out = join(dir, "run");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-read", "--allow-write", "--allow-run", join(ROOT, "main.ts")],
        ...["train", "--env", "gym:Pendulum-v1", "--gym-python", python, "--total-steps", "100000"],
        ...["--max-episode-steps", "20", "--steps-per-update", "40"],
        ...["--num-envs", "2", "--eval-interval", "2", "--eval-episodes", "1", "--out-dir", out],
        "--quiet",
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await waitFor(join(out, "metrics.json"), child);
    child.kill("SIGINT");
    const status = await child.output();
    assert.equal(status.code, 130, new TextDecoder().decode(status.stderr));
    assert.match(new TextDecoder().decode(status.stderr), /train: interrupted at episode \d+/);
    assert.ok([...Deno.readDirSync(join(out, "checkpoints"))].length > 0);
    assert.equal(await workers(python), 0);
  });
});
