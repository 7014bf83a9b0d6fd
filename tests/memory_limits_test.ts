/**
 * Memory and time bounded by the documented limits (issue 18): each case runs the real
 * CLI in a child that reports its peak memory. Files at or past a limit (a run JSON of
 * 64 MiB, millions of `{}`, episodes near 2^62) and configuration values whose product
 * is too large (route length, steps x envs, hidden width, held-out counts) either work
 * within the budget or are refused with exit 2 and one line, quickly.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, withTempDir } from "./_helpers.ts";
import { runMeasured } from "./_hostile_cases.ts";
import { niceTicks } from "../src/report/mod.ts";

const GiB_KB = 1024 * 1024;

// A small finished run folder's files, for the report cases.
function runFiles(dir: string, opts: { metrics: unknown[]; trainMetrics?: string }) {
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(join(dir, "metrics.json"), JSON.stringify(opts.metrics));
  if (opts.trainMetrics !== undefined) {
    Deno.writeTextFileSync(join(dir, "train_metrics.json"), opts.trainMetrics);
  }
}

const entry = (episode: number) => ({
  episode,
  mean_reward: 1,
  heldout: { return_mean: 2, success_rate: 0.5 },
  update: { kl: 0.01, clip_fraction: 0.1, entropy: 1 },
});

Deno.test("niceTicks: a few ticks whatever the range, also between neighbouring doubles far from zero", () => {
  assert.deepEqual(niceTicks(0.3, 9.2, 5), [0, 2, 4, 6, 8, 10]);
  for (const [lo, hi] of [[2 ** 62, 2 ** 62 + 1024], [1e20, 1e20 + 16384], [0, 1e300]]) {
    const ticks = niceTicks(lo, hi, 5, { integer: true, inside: true });
    assert.ok(ticks.length >= 1 && ticks.length <= 24, `${lo}..${hi}: ${ticks.length} ticks`);
  }
});

Deno.test("report: episodes near 2^62 and 1e20, a 64 MiB train_metrics.json, and 22 million {} stay within bounds", () =>
  withTempDir(async (dir) => {
    const rss = join(dir, "rss");
    const far = join(dir, "far");
    runFiles(far, { metrics: [entry(2 ** 62), entry(2 ** 62 + 1024)] });
    const farther = join(dir, "farther");
    runFiles(farther, { metrics: [entry(1e20), entry(1e20 + 16384)] });
    for (const run of [far, farther]) {
      const r = await runMeasured(["report", run], rss, 15_000);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.peakKb! < 300 * 1024, `${run}: ${r.peakKb} kB`);
    }
    // rewards and lengths of 16 million episodes each: 64 MiB of "1,"
    const big = join(dir, "big");
    const n = Math.floor((64 * 1024 * 1024 - 1000) / 4);
    const ones = "1,".repeat(n - 1) + "1";
    runFiles(big, {
      metrics: [entry(10), entry(20)],
      trainMetrics: `{"rewards": [${ones}], "lengths": [${ones}]}`,
    });
    const r = await runMeasured(["report", big], rss, 30_000);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.peakKb! < GiB_KB, `64 MiB train_metrics.json: ${r.peakKb} kB`);
    // 64 MiB of empty objects: refused by the run JSON budget (the report goes on without it)
    const objects = join(dir, "objects");
    runFiles(objects, {
      metrics: [entry(10)],
      trainMetrics: `{"junk": [${"{},".repeat(n - 1)}{}]}`,
    });
    const o = await runMeasured(["report", objects], rss, 30_000);
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stderr, /train_metrics\.json: holds more than 1000000 arrays and objects/);
    assert.ok(o.peakKb! < 300 * 1024, `{} x 22 million: ${o.peakKb} kB`);
    // 16 MiB of empty arrays as episodes.json: refused by its budget, one line, exit 2
    Deno.writeTextFileSync(
      join(objects, "episodes.json"),
      `[${"[],".repeat(Math.floor(16 * 1024 * 1024 / 3) - 2)}[]]`,
    );
    const e = await runMeasured(["report", objects], rss, 30_000);
    assert.equal(e.code, 2, e.stderr);
    assert.match(e.stderr, /episodes\.json.*holds more than 200000 arrays and objects/);
    assert.ok(e.peakKb! < 300 * 1024, `[] x 5.6 million: ${e.peakKb} kB`);
  }));

Deno.test("configuration values whose product does not fit are refused at once: exit 2, one line", () =>
  withTempDir(async (dir) => {
    const rss = join(dir, "rss");
    const config = join(dir, "route.json");
    Deno.writeTextFileSync(config, JSON.stringify({ env: { route_length: 1e9 } }));
    const cases: [string[], RegExp][] = [
      [["train", "--config", config], /env\.route_length: 1000000000 m makes routes of/],
      [
        ["train", "--max-episode-steps", "1000000", "--num-envs", "100"],
        /--num-envs 100 x --max-episode-steps 1000000: a rollout buffer of 100000000 steps/,
      ],
      [
        ["train", "--hidden-dim", "4096"],
        /--hidden-dim 4096: the delta and value heads would have/,
      ],
      [["train", "--heldout-episodes", "1000000"], /--heldout-episodes: 1000000 is out of range/],
      [["eval", "--episodes", "1000000"], /--episodes: 1000000 is out of range/],
    ];
    for (const [i, [args, says]] of cases.entries()) {
      const out = join(dir, `run${i}`);
      const r = await runMeasured(
        [...args, ...(args[0] === "train" ? ["--out-dir", out] : [])],
        rss,
        10_000,
      );
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], says);
      assert.ok(r.peakKb! < 300 * 1024, `${args.join(" ")}: ${r.peakKb} kB`);
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    }
  }));

Deno.test("aggregate: a train_metrics.json naming a million held-out seeds is not evaluated", () =>
  withTempDir(async (dir) => {
    const seed = join(dir, "seed_1");
    Deno.mkdirSync(seed);
    Deno.writeTextFileSync(join(seed, "config.json"), JSON.stringify({ env: {}, ppo: {} }));
    const block = { return_mean: 1, success_rate: 1, ade_mean: 1 };
    Deno.writeTextFileSync(
      join(seed, "train_metrics.json"),
      JSON.stringify({ heldout: { seeds: [2 ** 30, 1_000_000], sft: block, refined: block } }),
    );
    const r = await runMeasured(["aggregate", dir], join(dir, "rss"), 10_000);
    assert.equal(r.code, 0, r.stderr);
    const summary = readJson(join(dir, "summary.json")) as { missing: { reason: string }[] };
    assert.match(summary.missing[0].reason, /no complete heldout block/);
  }));
