/**
 * Every run's TensorBoard event files and `progress.csv`, read with TensorBoard's own
 * reader (`EventAccumulator`, the test venv's tensorboard) and Python's `csv`: tags,
 * steps (the run's env steps) and values equal `metrics.json` (values as float32 in the
 * event files, exact in the CSV); a multi-seed job's seed folders are runs TensorBoard
 * overlays; a run stopped with Ctrl-C and resumed shows each step once and equals a run
 * never stopped; an env without a goal writes no success rate. A write fault of the
 * scalars is a warning, and the run goes on.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readJson,
  ROOT,
  runCli,
  SMOKE_FLAGS,
  snapshot,
  waitFor,
  withFlags,
  withTempDir,
} from "./_helpers.ts";
import { runPython } from "./_python.ts";
import { RunScalars } from "../src/run/mod.ts";
import type { MetricsEntry } from "../src/run/mod.ts";

const FLAGS = withFlags(SMOKE_FLAGS, { "--num-envs": "5", "--episodes": "20" });

// What TensorBoard and Python's csv read of each run folder given: every scalar after
// EventAccumulator's merge, every (tag, step) of every file as written, the CSV rows.
const READ = `
import csv, json, os, sys
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_file_loader as efl
out = {}
for d in sys.argv[1:]:
    acc = ea.EventAccumulator(d, size_guidance={ea.SCALARS: 0})
    acc.Reload()
    scalars = {t: [[e.step, repr(e.value)] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
    raw = []
    for name in sorted(os.listdir(d)):
        if "tfevents" in name:
            for ev in efl.LegacyEventFileLoader(os.path.join(d, name)).Load():
                raw.extend([v.tag, ev.step] for v in ev.summary.value)
    with open(os.path.join(d, "progress.csv"), newline="") as f:
        rows = list(csv.reader(f))
    out[d] = {"scalars": scalars, "raw": raw,
              "header": rows[0], "rows": [[repr(float(c)) if c else "" for c in r] for r in rows[1:]]}
print(json.dumps(out))
`;

interface Read {
  scalars: Record<string, [number, string][]>;
  raw: [string, number][];
  header: string[];
  rows: string[][];
}

async function readScalars(...dirs: string[]): Promise<Record<string, Read>> {
  return JSON.parse(await runPython(READ, dirs));
}

function pyFloat(s: string): number {
  return s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);
}

type Entry = Record<string, unknown> & {
  episode: number;
  update: Record<string, number>;
  heldout: Record<string, number>;
  eval: Record<string, number>;
};

// The scalars each metrics.json entry should give, by tag (learning rate and speed aside),
// and the entry's step: the env steps of the episodes before it (train_metrics.json).
function expected(dir: string, hasSuccess = true): { step: number; tags: Map<string, number> }[] {
  const entries = readJson(join(dir, "metrics.json")) as Entry[];
  const lengths = (readJson(join(dir, "train_metrics.json")) as { lengths: number[] }).lengths;
  return entries.map((e) => {
    const step = lengths.slice(0, e.episode).reduce((a, b) => a + b, 0);
    const tags = new Map<string, number>([
      ["rollout/ep_rew_mean", e.mean_reward as number],
      ["rollout/ep_len_mean", e.mean_length as number],
      ["rollout/delta_norm_mean", e.eval.mean_delta_norm],
      ["train/approx_kl", e.update.kl],
      ["train/clip_fraction", e.update.clip_fraction],
      ["train/entropy_loss", -e.update.entropy],
      ["train/policy_gradient_loss", e.update.policy_loss],
      ["train/value_loss", e.update.value_loss],
      ["train/explained_variance", e.update.explained_variance],
      ["eval/mean_reward", e.heldout.return_mean],
      ["time/episodes", e.episode],
      ["time/total_timesteps", step],
    ]);
    if (hasSuccess) {
      tags.set("rollout/success_rate", e.success_rate as number);
      tags.set("eval/success_rate", e.heldout.success_rate);
    }
    for (const [k, v] of Object.entries(e.heldout)) {
      if (k !== "return_mean" && k !== "success_rate") tags.set(`eval/${k}`, v);
    }
    return { step, tags };
  });
}

// The folder's event files and progress.csv hold exactly what its metrics.json says.
function checkRun(dir: string, read: Read, opts: { lr: (episode: number) => number }): void {
  const want = expected(dir);
  const steps = want.map((w) => w.step);
  const tags = [...want[0].tags.keys(), "train/learning_rate", "time/fps"].sort();
  assert.deepEqual(Object.keys(read.scalars).sort(), tags);
  for (const tag of tags) {
    const points = read.scalars[tag];
    assert.deepEqual(points.map(([s]) => s), steps, `${tag}: steps`);
    points.forEach(([, text], i) => {
      const episode = want[i].tags.get("time/episodes")!;
      const value = tag === "time/fps"
        ? undefined
        : tag === "train/learning_rate"
        ? opts.lr(episode)
        : want[i].tags.get(tag)!;
      if (value === undefined) assert.ok(pyFloat(text) > 0, `${tag}: ${text}`);
      else assert.equal(pyFloat(text), Math.fround(value), `${tag} at episode ${episode}`);
    });
  }
  // each (tag, step) once in the files, as written
  assert.equal(new Set(read.raw.map(([t, s]) => `${t}@${s}`)).size, read.raw.length);
  // the CSV: the same tags as columns, one row per entry, numbers exact
  assert.deepEqual([...read.header].sort(), tags);
  assert.equal(read.rows.length, want.length);
  read.rows.forEach((row, i) => {
    for (const [tag, value] of want[i].tags) {
      assert.equal(pyFloat(row[read.header.indexOf(tag)]), value, `progress.csv ${tag} row ${i}`);
    }
  });
}

Deno.test("train writes event files and progress.csv that TensorBoard reads as metrics.json", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const r = await runCli(["train", "--out-dir", out, ...FLAGS, "--lr-schedule", "linear"]);
    assert.equal(r.code, 0, r.stderr);
    // resumed into another folder: the restored entries first, then the new ones
    const other = join(dir, "other");
    const checkpoint = join(out, "checkpoints", "checkpoint_10.pt");
    const o = await runCli(["train", "--resume", checkpoint, "--out-dir", other, "--quiet"]);
    assert.equal(o.code, 0, o.stderr);
    // a resume in place whose event file is corrupt: one line, exit 2, nothing changed
    const bad = join(dir, "bad");
    await new Deno.Command("cp", { args: ["-r", out, bad] }).output();
    const events = [...Deno.readDirSync(bad)].find((e) => e.name.includes("tfevents"))!.name;
    Deno.writeTextFileSync(join(bad, events), "not a record, but long enough", { append: true });
    const before = snapshot(bad);
    const refused = await runCli([
      ...["train", "--resume", join(bad, "checkpoints", "checkpoint_10.pt")],
      ...["--overwrite", "--quiet"],
    ]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^error: .*tfevents.*: record \d+ \(byte \d+\): .*; the run's scalars cannot be resumed: move the file out of the folder to resume without it\n$/,
    );
    assert.deepEqual(snapshot(bad), before);
    // as the line says: without the event file, the restored entries are written again
    Deno.removeSync(join(bad, events));
    const again = await runCli([
      ...["train", "--resume", join(bad, "checkpoints", "checkpoint_10.pt")],
      ...["--overwrite", "--quiet"],
    ]);
    assert.equal(again.code, 0, again.stderr);
    const both = await readScalars(out, other, bad);
    const read = both[out];
    // linear schedule: the update after a rollout of 5 episodes starting at e - 5
    checkRun(out, read, { lr: (e) => 3e-4 * (1 - (e - 5) / 20) });
    assert.ok(read.header.includes("eval/ade_mean") && read.header.includes("eval/fde_mean"));
    for (const run of [other, bad]) {
      assert.deepEqual(Object.keys(both[run].scalars).sort(), Object.keys(read.scalars).sort());
      for (const [tag, points] of Object.entries(both[run].scalars)) {
        // no entry records the learning rate and speed of the two restored ones
        const from = tag === "train/learning_rate" || tag === "time/fps" ? 2 : 0;
        const want = read.scalars[tag].slice(from);
        if (tag === "time/fps") assert.deepEqual(points.map(([s]) => s), want.map(([s]) => s));
        else assert.deepEqual(points, want, `${run}: ${tag}`);
      }
    }
    // the kept progress.csv rows were not written twice
    assert.deepEqual(both[bad].rows.map((r) => r.at(-1)), read.rows.map((r) => r.at(-1)));
  }));

Deno.test("train --seeds: each seed folder is a run of its own that TensorBoard overlays", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "seeds");
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", join(ROOT, "main.ts")].concat(
        ["train", "--seeds", "1-2", "--jobs", "1", "--out-dir", out, ...FLAGS],
      ),
      stdin: "null",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const seeds = [join(out, "seed_1"), join(out, "seed_2")];
    const read = await readScalars(...seeds);
    for (const seed of seeds) checkRun(seed, read[seed], { lr: () => 3e-4 });
    const runs = await runPython(
      `import sys
from tensorboard.backend.event_processing import event_multiplexer as em
m = em.EventMultiplexer().AddRunsFromDirectory(sys.argv[1])
m.Reload()
print(sorted((run, "rollout/ep_rew_mean" in tags["scalars"]) for run, tags in m.Runs().items()))`,
      [out],
    );
    assert.equal(runs.trim(), "[('seed_1', True), ('seed_2', True)]");
  }));

Deno.test("Ctrl-C, the refusal to start over, then resume: each step once, as a run never stopped", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const flags = withFlags(FLAGS, { "--save-interval": "5" });
    const long = withFlags(flags, { "--episodes": "100000" });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", join(ROOT, "main.ts"), "train"].concat(
        ["--out-dir", out, ...long],
      ),
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    await waitFor(join(out, "checkpoints", "checkpoint_15.pt"), child);
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 130, err);
    const m = /interrupted at episode (\d+)(?: \(.*\))?; saved (.*checkpoint_\d+\.pt)\n/.exec(err);
    assert.ok(m, err);
    const command = `deno task train --resume ${m[2]}`;
    assert.ok(err.includes(`train: continue with \`${command}\``), err);

    // the same command again: refused, saying where the run stopped and how to go on
    const before = snapshot(out);
    const again = await runCli(["train", "--out-dir", out, ...long]);
    assert.equal(again.code, 2);
    assert.equal(
      again.stderr,
      `error: --out-dir ${out} holds a run stopped at episode ${
        m[1]
      }; continue it with \`${command}\`, or pass --overwrite to replace it, or choose another folder\n`,
    );
    assert.deepEqual(snapshot(out), before);

    const target = String(Number(m[1]) + 10);
    const straight = join(dir, "straight");
    const s = await runCli(["train", "--out-dir", straight, ...flags, "--episodes", target]);
    assert.equal(s.code, 0, s.stderr);
    const resumed = await runCli(["train", "--resume", m[2], "--episodes", target, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    // a copy resumed from an earlier checkpoint: the points after it are dropped, then made again
    const early = join(dir, "early");
    await Deno.mkdir(early);
    await new Deno.Command("cp", { args: ["-r", out, early] }).output();
    const copy = join(early, "run");
    const fromFive = await runCli([
      ...["train", "--resume", join(copy, "checkpoints", "checkpoint_5.pt")],
      ...["--episodes", target, "--overwrite", "--quiet"],
    ]);
    assert.equal(fromFive.code, 0, fromFive.stderr);

    const read = await readScalars(straight, out, copy);
    for (const run of [out, copy]) {
      checkRun(run, read[run], { lr: () => 3e-4 });
      const a = read[run], b = read[straight];
      assert.deepEqual(Object.keys(a.scalars).sort(), Object.keys(b.scalars).sort());
      for (const [tag, points] of Object.entries(a.scalars)) {
        if (tag === "time/fps") continue;
        assert.deepEqual(points, b.scalars[tag], `${run}: ${tag}`);
      }
      const fps = a.header.indexOf("time/fps");
      const noFps = (rows: string[][]) => rows.map((r) => r.filter((_, i) => i !== fps));
      assert.deepEqual(noFps(a.rows), noFps(b.rows), `${run}: progress.csv`);
    }
  }));

Deno.test("an env without a goal: no success in the progress lines, tables and scalars", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "pendulum");
    const env = ["--env", join(ROOT, "examples", "pendulum.ts")];
    const r = await runCli([
      ...["train", ...env, "--out-dir", out, "--total-steps", "800", "--num-envs", "2"],
      ...["--steps-per-update", "200", "--eval-interval", "2", "--eval-episodes", "2"],
      ...["--heldout-episodes", "2", "--max-episode-steps", "100"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /step 800\/800 +episode 8 +reward -?\d/);
    assert.doesNotMatch(r.stderr + r.stdout, /success/);
    const read = (await readScalars(out))[out];
    assert.ok(Object.keys(read.scalars).every((t) => !t.includes("success")));
    assert.ok(read.header.every((t) => !t.includes("success")));
    for (const [i, { step }] of expected(out, false).entries()) {
      assert.equal(read.scalars["eval/mean_reward"][i][0], step);
    }
    // the JSON files keep their success_rate
    const entries = readJson(join(out, "metrics.json")) as Entry[];
    assert.ok(entries.every((e) => e.success_rate === 0 && e.heldout.success_rate === 0));
    const ev = await runCli([
      "eval",
      ...env,
      "--policy",
      out,
      "--policy",
      "base",
      "--episodes",
      "2",
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /^policy +return +steps +\|delta\|$/m);
    assert.match(ev.stdout, new RegExp(`^${out}/final\\.pt +-\\d`, "m"));
  }));

Deno.test("a fault writing the scalars is one warning; the run's other files go on", () =>
  withTempDir(async (dir) => {
    const warnings: string[] = [];
    const scalars = await RunScalars.open(dir, {
      resumeStep: null,
      hasSuccess: true,
      warn: (line) => warnings.push(line),
    });
    const entry = {
      episode: 5,
      mean_reward: 1,
      mean_length: 10,
      total_episodes: 5,
      success_rate: 0.5,
      update: { kl: 0.01, clip_fraction: 0.1, entropy: 2, policy_loss: 0, value_loss: 1 },
      eval: { mean_delta_norm: 0.1, max_delta_norm: 0.2, std_delta_norm: 0.05 },
      timestamp: "",
      heldout: { return_mean: 2, success_rate: 1 },
      sft_heldout: { return_mean: 1 },
    } as unknown as MetricsEntry;
    // the first points have no learning rate: the next ones widen progress.csv, which is
    // rewritten through a new file renamed over it; a folder in its place fails that
    const log = { metrics: [entry], lengths: [10, 10, 10, 10, 10] };
    await scalars.backfill(log as never, { episode: 5, envStepsNow: 50 });
    await Deno.remove(join(dir, "progress.csv"));
    await Deno.mkdir(join(dir, "progress.csv", "inside"), { recursive: true });
    const later = { ...entry, episode: 10, total_episodes: 10 };
    await scalars.add(later, { at: { envSteps: 100, learningRate: 3e-4 }, fps: 1000 });
    await scalars.add({ ...later, episode: 15 }, {
      at: { envSteps: 150, learningRate: 3e-4 },
      fps: 1,
    });
    await scalars.close();
    assert.equal(warnings.length, 1, `${warnings}`);
    assert.match(
      warnings[0],
      /^the TensorBoard scalars and progress\.csv stop here \(.*\); metrics\.json goes on$/,
    );
  }));
