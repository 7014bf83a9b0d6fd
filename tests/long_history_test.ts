/**
 * Long runs resume: a checkpoint whose per-episode lists hold 1,000,000 entries, and a
 * Python-layout `checkpoint_200000.pt` (no episode, no RNG state, no history), continue
 * without overflowing the stack (no long array is spread into function arguments).
 * The files are made from a real run's checkpoint with the project's own writer.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, runCli, SMOKE_ENV_FLAGS, SMOKE_FLAGS, withTempDir } from "./_helpers.ts";
import { PtDict, readPt, writePt } from "../src/io/torch_pt.ts";

Deno.test("train --resume of a checkpoint with a 1,000,000-episode history, and of a Python checkpoint_200000.pt", () =>
  withTempDir(async (dir) => {
    const made = await runCli(["train", "--out-dir", join(dir, "run"), ...SMOKE_FLAGS]);
    assert.equal(made.code, 0, made.stderr);
    const source = await readPt(join(dir, "run", "checkpoints", "checkpoint_10.pt")) as PtDict;

    const n = 1_000_000;
    const long = await readPt(join(dir, "run", "checkpoints", "checkpoint_10.pt")) as PtDict;
    const stretch = (key: string) => {
      const v = source.get(key) as number[];
      return Array.from({ length: n }, (_, i) => v[i % v.length]);
    };
    const rewards = stretch("rewards");
    long.set("episode", n);
    long.set("rewards", rewards);
    long.set("lengths", stretch("lengths"));
    long.set("successes", stretch("successes"));
    const longRun = join(dir, "long");
    Deno.mkdirSync(join(longRun, "checkpoints"), { recursive: true });
    const longPath = join(longRun, "checkpoints", `checkpoint_${n}.pt`);
    await writePt(longPath, long);
    const r = await runCli([
      "train",
      "--resume",
      longPath,
      "--episodes",
      String(n + 5),
      "--save-interval",
      "1000000000",
      "--eval-interval",
      "1000000000",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const final = await readPt(join(longRun, "final.pt")) as PtDict;
    assert.equal(final.get("episode"), n + 5);
    const tm = readJson(join(longRun, "train_metrics.json")) as { rewards: number[] };
    assert.equal(tm.rewards.length, n + 5);
    assert.deepEqual(tm.rewards.slice(0, n), rewards);

    // The Python trainer's layout: weights, optimizer and cfg only; the episode is in the name.
    const py = new PtDict();
    for (const key of ["delta_head", "value_head", "optimizer", "cfg"]) {
      py.set(key, source.get(key)!);
    }
    const pyPath = join(dir, "py", "checkpoint_200000.pt");
    Deno.mkdirSync(join(dir, "py"));
    await writePt(pyPath, py);
    const p = await runCli([
      "train",
      "--resume",
      pyPath,
      "--out-dir",
      join(dir, "py_run"),
      ...SMOKE_ENV_FLAGS,
      "--episodes",
      "200005",
      "--save-interval",
      "1000000000",
      "--quiet",
    ]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stderr, /holds no RNG state/);
    const pyFinal = await readPt(join(dir, "py_run", "final.pt")) as PtDict;
    assert.equal(pyFinal.get("episode"), 200005);
    assert.equal((pyFinal.get("rewards") as number[]).length, 200005);
  }));
