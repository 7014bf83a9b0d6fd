/**
 * Many seeds: `train --seeds` gives per seed exactly the single run of that seed, the
 * aggregate's numbers are those of the seed files, the emitted Slurm / Kubernetes / Ray
 * jobs are valid and their per-task command gives the same folders and summary, bad
 * lists are refused, a failing seed does not stop the others, and Ctrl-C stops all of
 * them resumably.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  assertSameHeads,
  drivingEnvs,
  readJson,
  ROOT,
  runCommand,
  SMOKE_ENV,
  SMOKE_ENV_FLAGS,
  waitFor,
  withFlags,
  withTempDir,
  writeCliShim,
} from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";
import { ExpertPlanner, SCENARIO_KINDS } from "../src/env/mod.ts";
import { evaluatePolicy } from "../src/run/mod.ts";
import { parseSeedList } from "../src/cli/_seed_flags.ts";
import { describeSeeds, interquartileMean } from "../src/sweep/mod.ts";
import type { SeedsSummary } from "../src/sweep/mod.ts";
import { UserError } from "../src/errors.ts";

const FLAGS = [
  ...SMOKE_ENV_FLAGS,
  "--hidden-dim",
  "32",
  "--episodes",
  "20",
  "--update-epochs",
  "2",
  "--eval-interval",
  "10",
  "--save-interval",
  "10",
  "--heldout-episodes",
  "10",
  "--eval-episodes",
  "4",
];
const MAIN = join(ROOT, "main.ts");
const DENO_RUN = [
  Deno.execPath(),
  "run",
  "--v8-flags=--max-semi-space-size=4", // the lanes' young generation stays small
  "--allow-read",
  "--allow-write",
  "--allow-env=DELTA_WAYPOINT_DEBUG",
];

/** `deno run` with run permission (for --seeds), as `deno task train` has it. */
function cli(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCommand([...DENO_RUN, "--allow-run", MAIN, ...args], opts);
}

const withoutTimestamps = (entries: Record<string, unknown>[]) =>
  entries.map(({ timestamp: _, ...rest }) => rest);

const heldoutOf = (dir: string) =>
  (readJson(join(dir, "train_metrics.json")) as {
    heldout: {
      refined: { return_mean: number; success_rate: number; ade_mean: number };
      sft: { return_mean: number };
    };
  }).heldout;

Deno.test("train --seeds: per seed the single run; the summary is the seed files' numbers; emitted jobs do the same", async (t) => {
  await withTempDir(async (dir) => {
    const multi = join(dir, "multi");
    // one lane: seed 1 is trained in the process that trained seed 3 before it
    const r = await cli(["train", "--seeds", "3,1", "--jobs", "1", "--out-dir", multi, ...FLAGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /seed 3: finished/);
    assert.match(r.stdout, /across 2 seeds/);

    await t.step("each seed's log holds its own run's output", () => {
      for (const seed of [3, 1]) {
        const log = Deno.readTextFileSync(join(multi, "logs", `seed_${seed}.log`));
        assert.equal(log.split("held-out evaluation:").length, 2, log);
        assert.ok(!log.includes("\x1e"), "no lane marker in the log");
        const refined = heldoutOf(join(multi, `seed_${seed}`)).refined.return_mean;
        assert.match(log, new RegExp(`sft \\+ delta +${refined.toFixed(2)} `));
      }
    });

    await t.step("a seed folder is bit-identical to train --seed N", async () => {
      const single = join(dir, "single");
      const s = await cli(["train", "--seed", "1", "--out-dir", single, ...FLAGS, "--quiet"]);
      assert.equal(s.code, 0, s.stderr);
      const seed1 = join(multi, "seed_1");
      await assertSameHeads(join(seed1, "final.pt"), join(single, "final.pt"));
      await assertSameHeads(join(seed1, "best.pt"), join(single, "best.pt"));
      const metrics = (d: string) =>
        withoutTimestamps(readJson(join(d, "metrics.json")) as Record<string, unknown>[]);
      assert.deepEqual(metrics(seed1), metrics(single));
      const config = (d: string) => ({
        ...(readJson(join(d, "config.json")) as object),
        out_dir: null,
      });
      assert.deepEqual(config(seed1), config(single));
      assert.equal((readJson(join(seed1, "config.json")) as { out_dir: string }).out_dir, seed1);
      const tm = (d: string) => readJson(join(d, "train_metrics.json")) as Record<string, unknown>;
      assert.deepEqual(tm(seed1).rewards, tm(single).rewards);
      assert.deepEqual(tm(seed1).heldout, tm(single).heldout);
    });

    const summary = readJson(join(multi, "summary.json")) as SeedsSummary;
    await t.step("the summary's numbers are the seed files'", () => {
      assert.deepEqual(summary.seeds, [3, 1]);
      assert.deepEqual(summary.finished, [3, 1]);
      assert.deepEqual(summary.missing, []);
      assert.equal(summary.method.bootstrap_samples, 10000);
      assert.match(summary.method.interval, /95% percentile bootstrap/);
      const expert = evaluatePolicy({
        makeEnv: drivingEnvs(SMOKE_ENV),
        planner: new ExpertPlanner(SMOKE_ENV),
        model: null,
        deltaClip: 0,
        firstSeed: 2 ** 30,
        count: 10,
      }).summary.return_mean;
      const rows = [3, 1].map((seed) => {
        const h = heldoutOf(join(multi, `seed_${seed}`));
        return {
          return: h.refined.return_mean,
          success_rate: h.refined.success_rate,
          ade: h.refined.ade_mean,
          gap_closed: (h.refined.return_mean - h.sft.return_mean) / (expert - h.sft.return_mean),
        };
      });
      for (const [i, seed] of [3, 1].entries()) {
        const row = summary.per_seed[i];
        assert.equal(row.seed, seed);
        assert.equal(row.expert_return, expert);
        for (const m of ["return", "success_rate", "ade", "gap_closed"] as const) {
          assert.ok(Math.abs((row[m] as number) - rows[i][m]) < 1e-12, `seed ${seed} ${m}`);
        }
      }
      for (const m of ["return", "success_rate", "ade", "gap_closed"] as const) {
        const [a, b] = rows.map((row) => row[m]);
        const st = summary.across_seeds[m]!;
        const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y));
        assert.ok(close(st.mean, (a + b) / 2), `${m} mean`);
        assert.ok(close(st.std!, Math.abs(a - b) / Math.SQRT2), `${m} std`);
        assert.ok(close(st.iqm, (a + b) / 2), `${m} iqm (nothing trimmed from 2 seeds)`);
        const [lo, hi] = st.mean_ci;
        assert.ok(Math.min(a, b) <= lo && lo <= st.mean && st.mean <= hi && hi <= Math.max(a, b));
      }
    });

    await t.step("aggregate DIR rebuilds the same summary", async () => {
      const before = Deno.readTextFileSync(join(multi, "summary.json"));
      const a = await cli(["aggregate", multi]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(Deno.readTextFileSync(join(multi, "summary.json")), before);
    });

    await t.step("eval and report take the multi-seed folder", async () => {
      const e = await cli(["eval", "--policy", multi, "--episodes", "5"]);
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, /seed_1\/final\.pt\s/);
      assert.match(e.stdout, /seed_3\/final\.pt\s/);
      assert.match(e.stdout, /\(mean of 2 seeds\)/);
      const rep = await cli(["report", multi]);
      assert.equal(rep.code, 0, rep.stderr);
      const svg = Deno.readTextFileSync(join(multi, "report.svg"));
      assert.match(svg, /data-metric="eval_return_mean"/);
      assert.match(svg, /class="band" data-metric="eval_return_mean_band"/);
      assert.match(Deno.readTextFileSync(join(multi, "report.html")), /across 2 seeds/);
    });

    await t.step(
      "--emit: valid Slurm, Kubernetes and Ray jobs whose tasks give the same runs",
      async () => {
        const jobs = join(dir, "jobs");
        const em = await cli([
          "train",
          "--seeds",
          "3,1",
          "--jobs",
          "1",
          "--emit",
          "slurm,k8s,ray",
          "--out-dir",
          jobs,
          ...FLAGS,
        ]);
        assert.equal(em.code, 0, em.stderr);
        assert.deepEqual(
          [...Deno.readDirSync(jobs)].map((e) => e.name).sort(),
          ["k8s_indexed_job.yaml", "logs", "ray_job.py", "seeds.json", "slurm_array.sh"],
        );

        const slurm = join(jobs, "slurm_array.sh");
        assert.equal((await runCommand(["bash", "-n", slurm])).code, 0);
        assert.match(Deno.readTextFileSync(slurm), /^#SBATCH "--array=0-1%1"$/m);

        const job = parseYaml(Deno.readTextFileSync(join(jobs, "k8s_indexed_job.yaml")));
        assert.equal(job.apiVersion, "batch/v1");
        assert.equal(job.kind, "Job");
        assert.equal(job.spec.completionMode, "Indexed");
        assert.equal(job.spec.completions, 2);
        assert.equal(job.spec.parallelism, 1);
        const container = job.spec.template.spec.containers[0];
        assert.deepEqual(container.command.slice(0, 2), ["sh", "-c"]);
        assert.match(container.command[2], /--task-index "\$JOB_COMPLETION_INDEX"/);

        // Task 0 as Slurm runs it, task 1 as the Kubernetes container does (with
        // `delta-waypoint` on PATH standing for the image's executable).
        const t0 = await runCommand(["bash", slurm], { env: { SLURM_ARRAY_TASK_ID: "0" } });
        assert.equal(t0.code, 0, t0.stderr);
        // Half done: the summary has seed 3 and lists seed 1 as missing.
        const half = await cli(["aggregate", "--json", jobs]);
        assert.equal(half.code, 0, half.stderr);
        const partial = JSON.parse(half.stdout) as SeedsSummary;
        assert.deepEqual(partial.finished, [3]);
        assert.deepEqual(partial.missing, [{ seed: 1, reason: "no folder" }]);
        const bin = writeCliShim(dir, [...DENO_RUN, MAIN]);
        const t1 = await runCommand(["sh", "-c", container.command[2]], {
          env: { JOB_COMPLETION_INDEX: "1", PATH: `${bin}:${Deno.env.get("PATH")}` },
        });
        assert.equal(t1.code, 0, t1.stderr);
        for (const seed of [3, 1]) {
          await assertSameHeads(
            join(jobs, `seed_${seed}`, "final.pt"),
            join(multi, `seed_${seed}`, "final.pt"),
          );
        }
        const a = await cli(["aggregate", jobs]);
        assert.equal(a.code, 0, a.stderr);
        const got = readJson(join(jobs, "summary.json")) as SeedsSummary;
        assert.deepEqual({ ...got, out_dir: null }, { ...summary, out_dir: null });

        // The Ray entrypoint is Python whose task i runs the same command (checked with a
        // stand-in `ray` module, without running it), where python3 is installed.
        const py = await runCommand(["python3", "--version"]).catch(() => null);
        if (py === null || py.code !== 0) {
          console.error("ray entrypoint check skipped: no python3");
          return;
        }
        const fake = join(dir, "fake_ray");
        Deno.mkdirSync(fake);
        Deno.copyFileSync(join(ROOT, "tests", "_ray_stub.py"), join(fake, "ray.py"));
        const probe = [
          "import importlib.util, json, sys",
          `spec = importlib.util.spec_from_file_location("job", ${
            JSON.stringify(join(jobs, "ray_job.py"))
          })`,
          "job = importlib.util.module_from_spec(spec); spec.loader.exec_module(job)",
          "print(json.dumps([job.task_command(0), job.task_command(1), job.MAX_PARALLEL]))",
        ].join("\n");
        const p = await runCommand(["python3", "-c", probe], { env: { PYTHONPATH: fake } });
        assert.equal(p.code, 0, p.stderr);
        const [c0, c1, parallel] = JSON.parse(p.stdout);
        const task = (i: number) => [
          ...DENO_RUN,
          MAIN,
          "train",
          "--seeds",
          "3,1",
          "--task-index",
          String(i),
          "--out-dir",
          jobs,
          ...FLAGS,
        ];
        assert.deepEqual(c0, task(0));
        assert.deepEqual(c1, task(1));
        assert.equal(parallel, 1);
      },
    );
  });
});

Deno.test("aggregate: a mountain_car folder has return, success rate and its max position; another env's seed is missing", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "mc");
    const tiny = "--env mountain_car --episodes 8 --num-envs 4 --max-episode-steps 50 " +
      "--hidden-dim 8 --eval-interval 4 --save-interval 4 --heldout-episodes 3 --eval-episodes 2";
    const r = await cli(["train", "--seeds", "1-2", "--out-dir", out, ...tiny.split(" ")]);
    assert.equal(r.code, 0, r.stderr);
    const a = await cli(["aggregate", out]);
    assert.equal(a.code, 0, a.stderr);
    const s = readJson(join(out, "summary.json")) as SeedsSummary;
    assert.equal(s.env_name, "mountain_car");
    assert.deepEqual(s.finished, [1, 2]);
    assert.deepEqual(s.missing, []);
    assert.deepEqual(Object.keys(s.across_seeds), ["return", "success_rate", "max_position"]);
    assert.equal(s.method.expert_return, undefined);
    for (const [i, seed] of [1, 2].entries()) {
      const h = (readJson(join(out, `seed_${seed}`, "train_metrics.json")) as {
        heldout: { refined: Record<string, number>; base: Record<string, number> };
      }).heldout;
      assert.deepEqual(s.per_seed[i], {
        seed,
        return: h.refined.return_mean,
        success_rate: h.refined.success_rate,
        max_position: h.refined.max_position_mean,
        base_return: h.base.return_mean,
      });
    }
    const returns = s.per_seed.map((row) => row.return);
    assert.equal(s.across_seeds.return!.mean, (returns[0] + returns[1]) / 2);
    assert.match(a.stdout, /^seed\s+return\s+success\s+max position$/m);
    assert.match(a.stdout, /^base policy alone: return /m);
    assert.doesNotMatch(a.stdout, /ADE|gap closed|expert/);

    // A seed folder trained on another env (here its config says driving) is not mixed in.
    Deno.mkdirSync(join(out, "seed_3"));
    const tm = readJson(join(out, "seed_2", "train_metrics.json")) as {
      heldout: { refined: Record<string, number> };
    };
    tm.heldout.refined.ade_mean = 1;
    Deno.writeTextFileSync(join(out, "seed_3", "train_metrics.json"), JSON.stringify(tm));
    const config = readJson(join(out, "seed_2", "config.json")) as Record<string, unknown>;
    Deno.writeTextFileSync(
      join(out, "seed_3", "config.json"),
      JSON.stringify({ ...config, env_name: undefined }),
    );
    Deno.removeSync(join(out, "seeds.json"));
    const mixed = await cli(["aggregate", "--json", out]);
    assert.equal(mixed.code, 0, mixed.stderr);
    const m = JSON.parse(mixed.stdout) as SeedsSummary;
    assert.deepEqual(m.finished, [1, 2]);
    assert.deepEqual(m.missing, [{
      seed: 3,
      reason: "trained on driving, not mountain_car as the others",
    }]);
  }));

Deno.test("aggregate: a traffic folder adds ADE, route completion, the collision rate and the gap its expert measures", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "traffic");
    const tiny = "--env traffic --warm-start-rounds 0 --episodes 20 --num-envs 4 --hidden-dim 8 " +
      "--eval-interval 10 " +
      "--save-interval 10 --heldout-episodes 6 --eval-episodes 2";
    const r = await cli(["train", "--seeds", "1-2", "--out-dir", out, ...tiny.split(" ")]);
    assert.equal(r.code, 0, r.stderr);
    const s = readJson(join(out, "summary.json")) as SeedsSummary;
    assert.equal(s.env_name, "traffic");
    assert.deepEqual(Object.keys(s.across_seeds), [
      "return",
      "success_rate",
      "ade",
      "route_completion",
      "collision_rate",
      "gap_closed",
    ]);
    for (const [i, seed] of [1, 2].entries()) {
      const refined = (readJson(join(out, `seed_${seed}`, "train_metrics.json")) as {
        heldout: { refined: Record<string, number> };
      }).heldout.refined;
      assert.equal(s.per_seed[i].collision_rate, refined.collision_rate);
      assert.equal(s.per_seed[i].route_completion, refined.route_completion);
    }
    const rates = s.per_seed.map((row) => row.collision_rate as number);
    assert.equal(s.across_seeds.collision_rate!.mean, (rates[0] + rates[1]) / 2);
    assert.match(
      r.stdout,
      /^seed\s+return\s+success\s+ADE m\s+route completion\s+collisions\s+gap closed$/m,
    );
    // per scenario kind: each seed's held-out groups, and their statistics across seeds
    for (const [i, seed] of [1, 2].entries()) {
      const groups = (readJson(join(out, `seed_${seed}`, "train_metrics.json")) as {
        heldout: { groups: { refined: Record<string, Record<string, number>> } };
      }).heldout.groups.refined;
      for (const [kind, g] of Object.entries(groups)) {
        assert.deepEqual(s.per_seed[i].groups![kind], {
          num_episodes: g.num_episodes,
          return: g.return_mean,
          success_rate: g.success_rate,
          ade: g.ade_mean,
          route_completion: g.route_completion,
          collision_rate: g.collision_rate,
        });
      }
    }
    const kinds = Object.keys(s.across_groups!);
    assert.ok(
      kinds.length > 0 && kinds.every((k) => SCENARIO_KINDS.includes(k as never)),
      `${kinds}`,
    );
    for (const kind of kinds) {
      const both = s.per_seed.map((row) => row.groups?.[kind]?.collision_rate);
      if (both.some((x) => x === undefined)) continue;
      assert.equal(s.across_groups![kind].collision_rate!.mean, (both[0]! + both[1]!) / 2);
    }
    assert.match(
      r.stdout,
      /^per group of held-out episodes: ADE m, route completion, collisions$/m,
    );
    assert.match(r.stdout, new RegExp(`^seed\\s+${kinds.join("\\s+")}$`, "m"));
    // the mean row: each group's mean collision rate across the seeds, in percent
    const meanRow = r.stdout.split("\n").filter((l) => l.startsWith("mean ")).at(-1)!;
    const kindRates = kinds.map((k) =>
      `${(100 * s.across_groups![k].collision_rate!.mean).toFixed(1)}%`
    );
    for (const rate of kindRates) assert.ok(meanRow.includes(rate), `${meanRow} lacks ${rate}`);
    assert.ok(!/ - /.test(meanRow), meanRow);
  }));

Deno.test("statistics across seeds: IQM trims a quarter from each end; bootstrap intervals are reproducible", () => {
  // 8 seeds: the IQM is the mean of the middle 4 of the sorted values.
  const xs = [9, 1, 7, 3, 100, 5, 2, -50];
  assert.equal(interquartileMean(xs), (2 + 3 + 5 + 7) / 4);
  assert.equal(interquartileMean([4, 1, 3]), 8 / 3); // under 4 seeds nothing is trimmed
  const a = describeSeeds(xs)!, b = describeSeeds([...xs])!;
  assert.deepEqual(a, b);
  assert.equal(a.n, 8);
  assert.equal(a.mean, xs.reduce((s, x) => s + x, 0) / 8);
  const m = a.mean;
  assert.equal(a.std, Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / 7));
  assert.ok(a.mean_ci[0] < a.mean && a.mean < a.mean_ci[1]);
  assert.ok(a.iqm_ci[0] <= a.iqm && a.iqm <= a.iqm_ci[1]);
  // The outliers widen the mean's interval more than the IQM's.
  assert.ok(a.mean_ci[1] - a.mean_ci[0] > a.iqm_ci[1] - a.iqm_ci[0]);
  assert.equal(describeSeeds([null, NaN]), null);
  assert.deepEqual(describeSeeds([2, null])!.mean_ci, [2, 2]);
});

Deno.test("parseSeedList: ranges and lists in order; bad lists are one-line errors", () => {
  assert.deepEqual(parseSeedList("1-5"), [1, 2, 3, 4, 5]);
  assert.deepEqual(parseSeedList("1,3,7"), [1, 3, 7]);
  assert.deepEqual(parseSeedList("9, 2-3"), [9, 2, 3]);
  assert.deepEqual(parseSeedList("4294967295"), [4294967295]);
  for (
    const bad of [
      "",
      "a",
      "1,,2",
      "5-1",
      "1-2-3",
      "-3",
      "1.5",
      "1,1",
      "1-3,2",
      "4294967296",
      "0-1000",
    ]
  ) {
    assert.throws(() => parseSeedList(bad), (e: unknown) => {
      assert.ok(e instanceof UserError, `'${bad}'`);
      assert.match(e.message, /^--seeds: /);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
});

Deno.test("train --seeds refuses bad lists and flag combinations with one line and exit 2, writing nothing", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "x");
    const cases = [
      ["--seeds", "5-1"],
      ["--seeds", "1,x"],
      ["--seeds", "0-5000"],
      ["--seeds", "1-2", "--seed", "3"],
      ["--seeds", "1-2", "--task-index", "2"],
      ["--seeds", "1-2", "--emit", "nomad"],
      ["--seeds", "1-2", "--jobs", "0"],
      ["--seeds", "1-2", "--episodes", "ten"],
      ["--seeds", "1-2", "--lane"], // the flag of the processes --seeds starts
    ];
    const results = await Promise.all(
      cases.map((c) => cli(["train", "--out-dir", out, ...FLAGS, ...c])),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 2, `${cases[i].join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^error: /);
    }
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  }));

Deno.test("train --seeds: a failing seed does not stop the others; SIGTERM / Ctrl-C stops all, each resumable", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("failing seed", async () => {
      const out = join(dir, "fail");
      // seed 2's run cannot make its checkpoints/ folder
      Deno.mkdirSync(join(out, "seed_2"), { recursive: true });
      Deno.writeTextFileSync(join(out, "seed_2", "checkpoints"), "not a folder");
      const r = await cli(["train", "--seeds", "1-2", "--out-dir", out, ...FLAGS]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /seed 2: failed/);
      Deno.statSync(join(out, "seed_1", "final.pt"));
      const s = readJson(join(out, "summary.json")) as SeedsSummary;
      assert.deepEqual(s.finished, [1]);
      assert.equal(s.missing.length, 1);
      assert.equal(s.missing[0].seed, 2);
      assert.match(s.missing[0].reason, /^failed \(exit code \d+\)/);
      assert.match(r.stdout, /missing: seed 2: failed/);
    });

    await t.step("SIGTERM", async () => {
      const out = join(dir, "int");
      const long = withFlags(FLAGS, { "--episodes": "100000", "--save-interval": "100000" });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          ...DENO_RUN.slice(1),
          "--allow-run",
          MAIN,
          "train",
          "--seeds",
          "1-2",
          "--out-dir",
          out,
          ...long,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitFor(join(out, "seed_1", "metrics.json"), child);
      await waitFor(join(out, "seed_2", "metrics.json"), child);
      child.kill("SIGTERM"); // handled as Ctrl-C is: passed on to every seed
      const { code, stderr } = await child.output();
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 130, err);
      const s = readJson(join(out, "summary.json")) as SeedsSummary;
      assert.deepEqual(s.finished, []);
      assert.deepEqual(s.missing.map((m) => m.seed), [1, 2]);
      for (const m of s.missing) assert.match(m.reason, /^interrupted at episode \d+/);
      const resumes = [
        ...err.matchAll(/seed (\d): continue with `deno task train --resume (\S+)`/g),
      ];
      assert.equal(resumes.length, 2, err);
      const ckpt = resumes[0][2];
      const episode = Number(/checkpoint_(\d+)\.pt$/.exec(ckpt)![1]);
      const r = await cli([
        "train",
        "--resume",
        ckpt,
        "--episodes",
        String(episode + 10),
        "--quiet",
      ]);
      assert.equal(r.code, 0, r.stderr);
      Deno.statSync(join(out, `seed_${resumes[0][1]}`, "final.pt"));
    });
  });
});

const denort = Deno.env.get("DENORT_BIN");
const hasRuntime = denort !== undefined && (() => {
  try {
    return Deno.statSync(denort).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "a compiled executable starts itself for each seed (needs DENORT_BIN)",
  ignore: !hasRuntime,
  fn: () =>
    withTempDir(async (dir) => {
      const exe = join(dir, "delta-waypoint");
      const build = await runCommand([
        Deno.execPath(),
        "compile",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        "--output",
        exe,
        MAIN,
      ]);
      assert.equal(build.code, 0, build.stderr);
      const out = join(dir, "multi");
      const r = await runCommand([exe, "train", "--seeds", "1,2", "--out-dir", out, ...FLAGS]);
      assert.equal(r.code, 0, r.stderr);
      const single = join(dir, "single");
      const s = await cli(["train", "--seed", "2", "--out-dir", single, ...FLAGS, "--quiet"]);
      assert.equal(s.code, 0, s.stderr);
      await assertSameHeads(join(out, "seed_2", "final.pt"), join(single, "final.pt"));
      const jobs = join(dir, "jobs");
      const em = await runCommand([
        exe,
        "train",
        "--seeds",
        "1,2",
        "--emit",
        "slurm",
        "--out-dir",
        jobs,
      ]);
      assert.equal(em.code, 0, em.stderr);
      assert.ok(Deno.readTextFileSync(join(jobs, "slurm_array.sh")).includes(`program=(${exe})`));
    }),
});
