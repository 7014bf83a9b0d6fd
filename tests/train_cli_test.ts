/**
 * `train` as a user runs it: the Python smoke test's settings, reproducibility, and
 * bad input that must leave existing runs untouched.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, runCli, SMOKE_FLAGS, snapshot, withTempDir } from "./_helpers.ts";
import { readPt, Tensor } from "../src/io/torch_pt.ts";
import type { PtDict, PtValue } from "../src/io/torch_pt.ts";

const PYTHON_ENV_KEYS = [
  "world_size",
  "horizon_steps",
  "waypoint_spacing",
  "max_episode_steps",
  "target_reach_radius",
  "progress_weight",
  "time_weight",
  "goal_weight",
];
const PYTHON_PPO_KEYS = [
  "encoder_out_dim",
  "horizon_steps",
  "hidden_dim",
  "episodes",
  "lr",
  "weight_decay",
  "gamma",
  "lam",
  "clip_ratio",
  "target_kl",
  "update_epochs",
  "batch_size",
  "eval_interval",
  "save_interval",
  "resume",
  "device",
  "seed",
];

function dict(v: PtValue | undefined, what: string): PtDict {
  assert.ok(v !== null && typeof v === "object" && "entries" in v, `${what} is not a dict`);
  return v as PtDict;
}

function tensorsOf(root: PtValue): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const walk = (v: PtValue, path: string) => {
    if (v instanceof Tensor) out.set(path, v);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === "object" && "entries" in v) {
      for (const [k, x] of (v as PtDict).entries()) walk(x, `${path}.${k}`);
    }
  };
  walk(root, "");
  return out;
}

Deno.test("train with the Python smoke test's settings writes the full run layout", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const r = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS]);
    assert.equal(r.code, 0, r.stderr);

    const config = readJson(join(out, "config.json")) as Record<string, Record<string, unknown>>;
    assert.equal(config.out_dir, out);
    assert.equal(config.sft_model, null);
    for (const k of PYTHON_ENV_KEYS) assert.ok(k in config.env, `config.env.${k} missing`);
    for (const k of PYTHON_PPO_KEYS) assert.ok(k in config.ppo, `config.ppo.${k} missing`);
    assert.equal(config.env.world_size, 50);
    assert.equal(config.env.horizon_steps, 5);
    assert.equal(config.env.waypoint_spacing, 5);
    assert.equal(config.env.max_episode_steps, 20);
    assert.equal(config.ppo.hidden_dim, 32);
    assert.equal(config.ppo.encoder_out_dim, 11);
    assert.equal(config.ppo.resume, null);
    assert.equal(config.ppo.device, "cpu");

    const metrics = readJson(join(out, "metrics.json")) as Record<string, unknown>[];
    assert.equal(metrics.length, 2);
    assert.deepEqual(metrics.map((m) => m.episode), [5, 10]);
    for (const m of metrics) {
      for (
        const k of [
          "episode",
          "mean_reward",
          "mean_length",
          "total_episodes",
          "update",
          "eval",
          "timestamp",
        ]
      ) {
        assert.ok(k in m, `metrics entry lacks ${k}`);
      }
      const u = m.update as Record<string, number>;
      for (const k of ["policy_loss", "value_loss", "entropy", "kl", "clip_fraction"]) {
        assert.ok(Number.isFinite(u[k]), `update.${k} = ${u[k]}`);
      }
      const e = m.eval as Record<string, number>;
      for (const k of ["mean_delta_norm", "max_delta_norm", "std_delta_norm"]) {
        assert.ok(Number.isFinite(e[k]) && e[k] >= 0, `eval.${k} = ${e[k]}`);
      }
      assert.ok(!Number.isNaN(Date.parse(m.timestamp as string)), "timestamp is ISO 8601");
    }

    const tm = readJson(join(out, "train_metrics.json")) as Record<string, unknown>;
    for (
      const k of [
        "start_time",
        "end_time",
        "config",
        "final_metrics",
        "rewards",
        "lengths",
        "heldout",
      ]
    ) {
      assert.ok(k in tm, `train_metrics lacks ${k}`);
    }
    assert.equal((tm.rewards as number[]).length, 10);
    assert.equal((tm.lengths as number[]).length, 10);
    for (const l of tm.lengths as number[]) assert.ok(l >= 1 && l <= 20, `length ${l}`);
    const fm = tm.final_metrics as Record<string, number>;
    assert.equal(fm.total_episodes, 10);
    const heldout = tm.heldout as {
      seeds: number[];
      sft: Record<string, number>;
      refined: Record<string, number>;
    };
    assert.equal(heldout.seeds[1], 8);
    for (const k of ["return_mean", "success_rate", "steps_mean", "ade_mean", "offroad_rate"]) {
      assert.ok(Number.isFinite(heldout.sft[k]) && Number.isFinite(heldout.refined[k]));
    }
    assert.match(r.stdout, /sft \+ delta/);

    const ckpts = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name);
    assert.deepEqual(ckpts, ["checkpoint_10.pt"]);

    // final.pt: the Python layout, float32 tensors of the SPEC shapes (H = 5, hidden 32, in 11).
    const final = dict(await readPt(join(out, "final.pt")), "final.pt");
    const delta = dict(final.get("delta_head"), "delta_head");
    const shapes: Record<string, number[]> = {
      "log_std": [5, 2],
      "net.0.weight": [32, 11],
      "net.0.bias": [32],
      "net.2.weight": [32, 32],
      "net.2.bias": [32],
      "net.4.weight": [10, 32],
      "net.4.bias": [10],
    };
    assert.deepEqual([...delta.keys()], Object.keys(shapes));
    for (const [k, shape] of Object.entries(shapes)) {
      const t = delta.get(k) as Tensor;
      assert.equal(t.dtype, "float32");
      assert.deepEqual(t.shape, shape, k);
    }
    const value = dict(final.get("value_head"), "value_head");
    assert.deepEqual([...value.keys()], [
      "net.0.weight",
      "net.0.bias",
      "net.2.weight",
      "net.2.bias",
    ]);
    assert.deepEqual((value.get("net.2.weight") as Tensor).shape, [1, 32]);
    const opt = dict(final.get("optimizer"), "optimizer");
    const state = dict(opt.get("state"), "optimizer.state");
    assert.equal(state.size, 11);
    assert.deepEqual((dict(state.get(0), "state[0]").get("exp_avg") as Tensor).shape, [5, 2]);
    assert.equal(dict(final.get("cfg"), "cfg").get("episodes"), 10);
    assert.equal(final.get("episode"), 10);

    // The last checkpoint was taken at the same episode as final.pt: same tensors.
    const ckpt = tensorsOf(await readPt(join(out, "checkpoints", "checkpoint_10.pt")));
    const fin = tensorsOf(final);
    assert.deepEqual([...ckpt.keys()], [...fin.keys()]);
    for (const [k, t] of fin) assert.deepEqual(ckpt.get(k)!.data, t.data, k);
  }));

Deno.test("two runs with the same seed give identical metrics and bit-identical final.pt tensors", () =>
  withTempDir(async (dir) => {
    const runs = [join(dir, "a"), join(dir, "b")];
    for (const out of runs) {
      const r = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS, "--seed", "7"]);
      assert.equal(r.code, 0, r.stderr);
    }
    const strip = (path: string) =>
      (readJson(path) as Record<string, unknown>[]).map(({ timestamp: _t, ...rest }) => rest);
    const [ma, mb] = runs.map((o) => strip(join(o, "metrics.json")));
    assert.deepEqual(ma, mb);
    const [ta, tb] = runs.map((o) =>
      readJson(join(o, "train_metrics.json")) as Record<string, unknown>
    );
    assert.deepEqual(ta.rewards, tb.rewards);
    assert.deepEqual(ta.heldout, tb.heldout);
    const [fa, fb] = await Promise.all(
      runs.map(async (o) => tensorsOf(await readPt(join(o, "final.pt")))),
    );
    assert.ok(fa.size > 40, `expected every tensor, got ${fa.size}`);
    for (const [k, t] of fa) {
      const u = fb.get(k)!;
      assert.deepEqual(new Uint8Array(u.data.buffer), new Uint8Array(t.data.buffer), k);
    }
    // A run's config.json given back with --config reproduces it, with no other flag.
    const fromConfig = join(dir, "d");
    const rc = await runCli([
      "train",
      "--out-dir",
      fromConfig,
      "--config",
      join(runs[0], "config.json"),
      "--quiet",
    ]);
    assert.equal(rc.code, 0, rc.stderr);
    assert.deepEqual(strip(join(fromConfig, "metrics.json")), ma);
    // A different seed gives a different run.
    const other = join(dir, "c");
    assert.equal(
      (await runCli(["train", "--out-dir", other, ...SMOKE_FLAGS, "--seed", "8"])).code,
      0,
    );
    assert.notDeepEqual(strip(join(other, "metrics.json")), ma);
  }));

Deno.test("bad input ends with a one-line error, exit 2, and an existing run untouched", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    assert.equal((await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS])).code, 0);
    const before = snapshot(out);
    const badConfig = join(dir, "bad.json");
    Deno.writeTextFileSync(badConfig, JSON.stringify({ env: { wrold_size: 3 } }));
    const cases: [string[], RegExp][] = [
      [["--bogus"], /bogus/],
      [["--episodes", "ten"], /--episodes: expected an integer, got 'ten'/],
      [["--episodes", "0"], /--episodes: 0 is out of range/],
      [["--episodes", "2.5"], /--episodes: expected an integer/],
      [["--lr", "-1"], /--lr: -1 is out of range/],
      [["--lr", "abc"], /--lr: expected a number/],
      [["--device", "cuda"], /--device: only 'cpu'/],
      [["--gamma", "1.5"], /--gamma/],
      [[], /already holds a run/],
      [["--config", join(dir, "nope.json")], /--config .*nope\.json: cannot read/],
      [["--config", badConfig], /--config .*bad\.json: unknown key 'env\.wrold_size'/],
    ];
    for (const [flags, pattern] of cases) {
      const r = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS, ...flags]);
      assert.equal(r.code, 2, `${flags.join(" ")}: exit ${r.code}\n${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${flags.join(" ")}: expected one line, got:\n${r.stderr}`);
      assert.match(lines[0], /^error: /);
      assert.match(lines[0], pattern);
    }
    const after = snapshot(out);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [p, v] of before) {
      assert.deepEqual(after.get(p)!.bytes, v.bytes, `${p} changed`);
      assert.equal(after.get(p)!.mtime, v.mtime, `${p} was rewritten`);
    }
    // With --overwrite the folder is reused, and no stale checkpoint survives.
    Deno.writeFileSync(join(out, "checkpoints", "checkpoint_999.pt"), new Uint8Array([1]));
    const r = await runCli([
      "train",
      "--out-dir",
      out,
      ...SMOKE_FLAGS,
      "--overwrite",
      "--episodes",
      "5",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name), []);
    assert.equal((readJson(join(out, "metrics.json")) as unknown[]).length, 1);
  }));

Deno.test("train --help and an unknown command", async () => {
  const help = await runCli(["train", "--help"]);
  assert.equal(help.code, 0);
  for (
    const flag of [
      "--out-dir",
      "--sft-model",
      "--resume",
      "--episodes",
      "--lr",
      "--seed",
      "--horizon-steps",
    ]
  ) {
    assert.ok(help.stdout.includes(flag), `help lacks ${flag}`);
  }
  for (const flag of ["--max-episode-steps", "--device", "--num-envs", "--overwrite", "--quiet"]) {
    assert.ok(help.stdout.includes(flag), `help lacks ${flag}`);
  }
  const bad = await runCli(["fly"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command 'fly'/);
});
