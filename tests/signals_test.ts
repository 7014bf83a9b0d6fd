/**
 * Signals: SIGTERM stops `train` like Ctrl-C (a checkpoint, metrics, exit 143); a stop
 * is noticed inside a rollout of very long episodes (the rollout is dropped and the
 * state at its start saved, so a resume is exact); a second Ctrl-C quits at once with
 * 130 and leaves no partial file and no lock.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import {
  assertSameHeads,
  readJson,
  ROOT,
  runCli,
  SMOKE_FLAGS,
  withFlags,
  withTempDir,
} from "./_helpers.ts";

/** A `train` child whose stderr is collected as it comes. */
class Train {
  readonly child: Deno.ChildProcess;
  stderr = "";
  readonly done: Promise<number>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", join(ROOT, "main.ts"), "train", ...args],
      stdout: "null",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    this.child = child;
    // A stop must end the process long before this; it only keeps a broken build from hanging.
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const reading = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) this.stderr += dec.decode(chunk);
    })();
    this.done = (async () => {
      const { code } = await child.status;
      await reading;
      clearTimeout(killer);
      return code;
    })();
  }

  /** Resolves once stderr matches `pattern` (or fails when the process ends first). */
  async waitFor(pattern: RegExp): Promise<void> {
    let ended = false;
    this.done.then(() => ended = true);
    while (!pattern.test(this.stderr)) {
      if (ended) throw new Error(`train ended without printing ${pattern}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

// Episodes that last up to a million steps: one rollout runs for minutes (some car of
// seed 42's first rollout stops short of its goal and waits; it does so under the
// exploration noise of log_std -1, which the config file in `dir` sets).
function long(dir: string): string[] {
  const config = join(dir, "long_noise.json");
  Deno.writeTextFileSync(config, JSON.stringify({ ppo: { init_log_std: -1 } }));
  // one env whose episode runs on (its rollout buffer, 500,000 steps, within the limit)
  return [
    "--world-size",
    "1000000",
    "--max-episode-steps",
    "500000",
    "--num-envs",
    "1",
    "--eval-episodes",
    "1",
    "--hidden-dim",
    "16",
    "--config",
    config,
  ];
}
// What the stopped run and the straight run finish with: short episodes, a few iterations.
const SHORT = [
  "--world-size",
  "100",
  "--max-episode-steps",
  "30",
  "--episodes",
  "10",
  "--eval-interval",
  "5",
  "--save-interval",
  "10",
  "--heldout-episodes",
  "4",
  "--update-epochs",
  "2",
  "--quiet",
];

Deno.test("Ctrl-C inside a long rollout is noticed, the rollout dropped, exit 130; the resume is exact", () =>
  withTempDir(async (dir) => {
    // The SFT baseline (one episode) is quick; then the first rollout runs on and on: its
    // one episode is 500,000 steps (about 5 s), the next ones are short. A machine so busy
    // that the stop is seen only after that episode ends gets another try (three at most).
    let m: RegExpExecArray | null = null;
    const seen: string[] = [];
    for (let attempt = 0; attempt < 3 && m === null; attempt++) {
      const out = join(dir, `long${attempt}`);
      const t = new Train(["--out-dir", out, ...long(dir)]);
      await t.waitFor(/train: episodes 0\.\.500/);
      await new Promise((r) => setTimeout(r, 500));
      t.child.kill("SIGINT");
      const code = await t.done;
      assert.equal(code, 130, t.stderr);
      assert.throws(() => Deno.statSync(join(out, ".lock")), Deno.errors.NotFound);
      m =
        /interrupted at episode 0 \(the iteration in progress was dropped\); saved (.*checkpoint_0\.pt)/
          .exec(t.stderr);
      seen.push(t.stderr);
    }
    assert.ok(m, seen.join("\n---\n"));

    // Its state is the run's start: resumed with short episodes it ends exactly as a
    // run that was never stopped.
    const resumed = join(dir, "resumed");
    const r = await runCli(["train", "--resume", m[1], "--out-dir", resumed, ...SHORT]);
    assert.equal(r.code, 0, r.stderr);
    const straight = join(dir, "straight");
    const s = await runCli(["train", "--out-dir", straight, ...long(dir), ...SHORT]);
    assert.equal(s.code, 0, s.stderr);
    await assertSameHeads(join(resumed, "final.pt"), join(straight, "final.pt"));
  }));

Deno.test("SIGTERM saves a checkpoint and exits 143; resuming from it matches an uninterrupted run", () =>
  withTempDir(async (dir) => {
    const flags = withFlags(SMOKE_FLAGS, { "--num-envs": "5" });
    const out = join(dir, "run");
    const t = new Train([
      "--out-dir",
      out,
      ...withFlags(flags, { "--episodes": "100000", "--save-interval": "100000" }),
    ]);
    // once training is under way (the first metrics are written)
    while (!existsSync(join(out, "metrics.json"))) await new Promise((r) => setTimeout(r, 20));
    t.child.kill("SIGTERM");
    assert.equal(await t.done, 143, t.stderr);
    const m =
      /interrupted at episode (\d+)(?: \(the iteration in progress was dropped\))?; saved (.*checkpoint_\d+\.pt)/
        .exec(t.stderr);
    assert.ok(m, t.stderr);
    // the command that continues the run
    assert.ok(t.stderr.includes(`train: continue with \`deno task train --resume ${m[2]}\``));
    const episode = Number(m[1]);
    const tm = readJson(join(out, "train_metrics.json")) as {
      interrupted: boolean;
      rewards: number[];
    };
    assert.equal(tm.interrupted, true);
    assert.equal(tm.rewards.length, episode);

    const target = String(episode + 10);
    const r = await runCli(["train", "--resume", m[2], "--episodes", target, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const straight = join(dir, "straight");
    const s = await runCli([
      "train",
      "--out-dir",
      straight,
      ...withFlags(flags, { "--episodes": target, "--save-interval": "100000" }),
    ]);
    assert.equal(s.code, 0, s.stderr);
    await assertSameHeads(join(out, "final.pt"), join(straight, "final.pt"));
  }));

Deno.test("a second Ctrl-C quits at once with 130: no partial file, no lock", () =>
  withTempDir(async (dir) => {
    // A wide delta head makes the checkpoint big (about 37 MB), so its saving takes long
    // enough (a few hundred ms) for a second Ctrl-C to arrive during it. On a machine so
    // busy that it arrives only after the save, the run ends as for one Ctrl-C; then the
    // scenario is tried again (at most three times).
    let quitAtOnce = false;
    for (let attempt = 0; attempt < 3 && !quitAtOnce; attempt++) {
      const out = join(dir, `run${attempt}`);
      const t = new Train(["--out-dir", out, "--hidden-dim", "1700"]);
      while (!existsSync(join(out, "config.json"))) await new Promise((r) => setTimeout(r, 20));
      t.child.kill("SIGINT");
      let ended = false;
      t.done.then(() => ended = true);
      // after the first has been noticed, press Ctrl-C again until the process is gone
      await t.waitFor(/SIGINT: stopping/).catch(() => {});
      while (!ended) {
        try {
          t.child.kill("SIGINT");
        } catch {
          break; // already gone
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await t.done, 130, t.stderr);
      quitAtOnce = /train: SIGINT again: quitting without saving/.test(t.stderr);
      const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      const checkpoints = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name);
      if (quitAtOnce) {
        // the big checkpoint was cut short and left nothing; the small JSON files written
        // before it may be there, but only whole
        assert.deepEqual(checkpoints, []);
        const allowed = [
          "checkpoints",
          "config.json",
          "env.json",
          "metrics.json",
          "train_metrics.json",
          "progress.csv",
        ];
        const allowedFile = (f: string) => allowed.includes(f) || f.includes("tfevents");
        assert.ok(files.every(allowedFile), `${files}`);
        for (const f of files.filter((f) => f.endsWith(".json"))) {
          JSON.parse(Deno.readTextFileSync(join(out, f)));
        }
      } else {
        assert.match(t.stderr, /interrupted at episode 0.*; saved/);
        assert.deepEqual(checkpoints, ["checkpoint_0.pt"]);
        assert.ok(!files.includes(".lock") && files.every((f) => !/\.tmp-/.test(f)), `${files}`);
      }
    }
    assert.ok(quitAtOnce, "the second Ctrl-C never arrived during the save");
  }));

Deno.test("a file-system fault while the run writes ends with one line and exit 4", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const t = new Train(["--out-dir", out, ...long(dir), "--quiet"]);
    while (!existsSync(join(out, "config.json"))) await new Promise((r) => setTimeout(r, 20));
    // While the first (endless) rollout runs, checkpoints/ becomes a regular file:
    // the checkpoint the stop saves cannot be written (the stop may land after a few
    // episodes: the car can leave the road, which ends one).
    Deno.removeSync(join(out, "checkpoints"));
    Deno.writeTextFileSync(join(out, "checkpoints"), "not a folder");
    t.child.kill("SIGINT");
    assert.equal(await t.done, 4, t.stderr);
    const lines = t.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, t.stderr);
    assert.match(
      lines[0],
      /^error: I\/O error while writing the run in .*run: Not a directory \(os error 20\).*checkpoint_\d+\.pt.*; the last complete checkpoint is none$/,
    );
    const left = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(left.filter((f) => !f.includes("tfevents")), [
      "checkpoints",
      "config.json",
      "env.json",
      "progress.csv",
    ]);
    assert.equal(left.filter((f) => f.includes("tfevents")).length, 1, `${left}`);
  }));
