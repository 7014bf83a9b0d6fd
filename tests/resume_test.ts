/**
 * Reading checkpoints back as a user does: `train --resume` (ours, exactly; the Python
 * trainer's), `inspect`, and bad files that must end in one line and exit code 2.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fixturePath,
  ptLeaves,
  readJson,
  resumeComparable,
  runCli,
  SMOKE_FLAGS,
  snapshot,
  withFlags,
  withTempDir,
} from "./_helpers.ts";
import { encodePt, PtDict, readPt, Tensor, writePt } from "../src/io/torch_pt.ts";
import type { PtValue } from "../src/io/torch_pt.ts";
import { writeZip, ZipReader } from "../src/io/_zip.ts";

/** A checkpoint's metrics entries and best record under the names written before the rename. */
function toOldNames(root: PtValue): PtDict {
  const ckpt = root as PtDict;
  const old = (key: string, sft: boolean) =>
    key === "return_mean"
      ? sft ? "sft_eval_return" : "eval_return"
      : key === "success_rate"
      ? "eval_success_rate"
      : `${sft ? "sft_" : ""}${key.replace(/_mean$/, "")}`;
  const entries = (ckpt.get("metrics") as PtDict[]).map((e) => {
    const out = new PtDict();
    for (const [k, v] of e) {
      if (k === "heldout" || k === "sft_heldout") {
        for (const [m, x] of v as PtDict) out.set(old(m as string, k === "sft_heldout"), x);
      } else out.set(k, v);
    }
    return out;
  });
  ckpt.set("metrics", entries);
  const best = new PtDict();
  for (const [k, v] of ckpt.get("best") as PtDict) {
    best.set(k === "episode" ? k : old(k as string, false), v);
  }
  ckpt.set("best", best);
  return ckpt;
}

const withoutTimestamps = (path: string) =>
  (readJson(path) as Record<string, unknown>[]).map(({ timestamp: _t, ...rest }) => rest);

const RUN_FLAGS = withFlags(SMOKE_FLAGS, {
  "--episodes": "30",
  "--save-interval": "10",
  "--num-envs": "4",
});

Deno.test("a run resumed from a middle checkpoint equals the uninterrupted run, bit for bit", () =>
  withTempDir(async (dir) => {
    const full = join(dir, "full");
    const r = await runCli(["train", "--out-dir", full, ...RUN_FLAGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [...Deno.readDirSync(join(full, "checkpoints"))].map((e) => e.name).sort(),
      ["checkpoint_10.pt", "checkpoint_20.pt", "checkpoint_30.pt"],
    );

    // Into a new folder: the config comes from the checkpoint, no flags needed.
    const resumed = join(dir, "resumed");
    const r2 = await runCli([
      "train",
      "--resume",
      join(full, "checkpoints", "checkpoint_10.pt"),
      "--out-dir",
      resumed,
      "--quiet",
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stderr, "", "no warning for our own checkpoint");
    const [a, b] = [
      await ptLeaves(join(full, "final.pt")),
      await ptLeaves(join(resumed, "final.pt")),
    ];
    assert.ok([...a.keys()].some((k) => k.includes("optimizer.state.10.exp_avg_sq")));
    assert.deepEqual(resumeComparable(b), resumeComparable(a));
    assert.deepEqual(
      withoutTimestamps(join(resumed, "metrics.json")),
      withoutTimestamps(join(full, "metrics.json")),
    );
    const [ta, tb] = [full, resumed].map((d) =>
      readJson(join(d, "train_metrics.json")) as Record<string, unknown>
    );
    assert.deepEqual(tb.rewards, ta.rewards);
    assert.deepEqual(tb.lengths, ta.lengths);
    assert.deepEqual(tb.heldout, ta.heldout);
    assert.equal(tb.resumed_at_episode, 10);
    const cfg = readJson(join(resumed, "config.json")) as { ppo: Record<string, unknown> };
    assert.equal(cfg.ppo.resume, join(full, "checkpoints", "checkpoint_10.pt"));
    assert.equal(cfg.ppo.hidden_dim, 32, "architecture taken from the checkpoint");

    // A checkpoint written before the held-out means were renamed (flat eval_return,
    // eval_success_rate, ade, fde, sft_eval_return, sft_ade; best: eval_return, ade)
    // resumes to the same run: tensors, metrics and best under the new names.
    const oldPath = join(dir, "old_names.pt");
    await writePt(oldPath, toOldNames(await readPt(join(full, "checkpoints", "checkpoint_10.pt"))));
    const oldRoot = await readPt(oldPath) as PtDict;
    const firstOld = (oldRoot.get("metrics") as PtDict[])[0];
    assert.deepEqual(
      [...firstOld.keys()].slice(8),
      ["eval_return", "eval_success_rate", "ade", "fde", "sft_eval_return", "sft_ade"],
    );
    assert.deepEqual([...(oldRoot.get("best") as PtDict).keys()], [
      "episode",
      "eval_return",
      "ade",
    ]);
    const fromOld = join(dir, "from_old");
    const r7 = await runCli(["train", "--resume", oldPath, "--out-dir", fromOld, "--quiet"]);
    assert.equal(r7.code, 0, r7.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(fromOld, "final.pt"))),
      resumeComparable(a),
    );
    assert.deepEqual(
      withoutTimestamps(join(fromOld, "metrics.json")),
      withoutTimestamps(join(full, "metrics.json")),
    );

    // In place, where a Ctrl-C would have left it: the run folder minus later files.
    const inPlace = join(dir, "inplace");
    Deno.mkdirSync(join(inPlace, "checkpoints"), { recursive: true });
    for (
      const f of [
        "config.json",
        "metrics.json",
        "train_metrics.json",
        "checkpoints/checkpoint_10.pt",
      ]
    ) {
      Deno.copyFileSync(join(full, f), join(inPlace, f));
    }
    const r3 = await runCli([
      "train",
      "--resume",
      join(inPlace, "checkpoints", "checkpoint_10.pt"),
      "--quiet",
    ]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(inPlace, "final.pt"))),
      resumeComparable(a),
    );

    // Resuming there again would replace final.pt and later checkpoints: refused.
    const before = snapshot(inPlace);
    const r4 = await runCli([
      "train",
      "--resume",
      join(inPlace, "checkpoints", "checkpoint_20.pt"),
      "--quiet",
    ]);
    assert.equal(r4.code, 2);
    assert.match(
      r4.stderr.trim(),
      /^error: --resume: .* already holds later results of this run .*--overwrite/,
    );
    assert.equal(r4.stderr.trim().split("\n").length, 1);
    const after = snapshot(inPlace);
    for (const [p, v] of before) assert.deepEqual(after.get(p)!.bytes, v.bytes, `${p} changed`);
    // ... unless asked to; and the run is the same again.
    const r5 = await runCli([
      "train",
      "--resume",
      join(inPlace, "checkpoints", "checkpoint_20.pt"),
      "--overwrite",
      "--quiet",
    ]);
    assert.equal(r5.code, 0, r5.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(inPlace, "final.pt"))),
      resumeComparable(a),
    );

    // A checkpoint at the end of the run has only the closing evaluation left (a run
    // stopped during it is finished so); past --episodes it has nothing to do.
    const r6 = await runCli([
      "train",
      "--resume",
      join(full, "final.pt"),
      "--out-dir",
      join(dir, "x"),
    ]);
    assert.equal(r6.code, 0, r6.stderr);
    const heldout = (d: string) =>
      (readJson(join(d, "train_metrics.json")) as { heldout: unknown }).heldout;
    assert.deepEqual(heldout(join(dir, "x")), heldout(full));
    const r8 = await runCli([
      "train",
      "--resume",
      join(full, "final.pt"),
      "--episodes",
      "20",
      "--out-dir",
      join(dir, "y"),
    ]);
    assert.equal(r8.code, 2);
    assert.match(r8.stderr, /episode 30 and --episodes is 20; raise --episodes/);
  }));

Deno.test("a checkpoint written by the Python trainer resumes from the episode in its file name", () =>
  withTempDir(async (dir) => {
    const run = join(dir, "run");
    Deno.mkdirSync(join(run, "checkpoints"), { recursive: true });
    const ckpt = join(run, "checkpoints", "checkpoint_50.pt");
    Deno.copyFileSync(fixturePath("torch/seed_checkpoint.pt"), ckpt);
    const r = await runCli([
      "train",
      "--resume",
      ckpt,
      "--episodes",
      "60",
      "--heldout-episodes",
      "10",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*checkpoint_50\.pt holds no RNG state/);
    // its cfg names none of our keys: the run records the defaults of that time (plain
    // heads, exploration noise -1), not today's
    const recorded = (readJson(join(run, "config.json")) as { ppo: Record<string, unknown> }).ppo;
    assert.deepEqual(
      [recorded.obs_norm, recorded.value_scale, recorded.init_log_std],
      [false, 1, -1],
    );
    const metrics = readJson(join(run, "metrics.json")) as { episode: number }[];
    assert.deepEqual(metrics.map((m) => m.episode), [60]);
    const final = await readPt(join(run, "final.pt")) as PtDict;
    assert.equal(final.get("episode"), 60);
    const tm = readJson(join(run, "train_metrics.json")) as { rewards: (number | null)[] };
    assert.equal(tm.rewards.length, 60);
    assert.ok(
      tm.rewards.slice(0, 50).every((x) => x === null),
      "episodes before the resume are unknown",
    );
    assert.ok(tm.rewards.slice(50).every((x) => typeof x === "number"));
    // Adam continued from the file's step count (2) for one rollout's updates.
    const opt = final.get("optimizer") as PtDict;
    const step0 = ((opt.get("state") as PtDict).get(0) as PtDict).get("step") as Tensor;
    assert.ok(step0.data[0] > 2, `step ${step0.data[0]}`);
    // The weights moved on from the file's, starting from them.
    const fixtureLogStd = ((await readPt(fixturePath("torch/seed_checkpoint.pt")) as PtDict).get(
      "delta_head",
    ) as PtDict)
      .get("log_std") as Tensor;
    const logStd = (final.get("delta_head") as PtDict).get("log_std") as Tensor;
    let moved = 0;
    for (let i = 0; i < 40; i++) {
      moved = Math.max(
        moved,
        Math.abs(logStd.data[i] as number - (fixtureLogStd.data[i] as number)),
      );
    }
    assert.ok(moved > 0 && moved < 0.1, `log_std moved by ${moved}`);
  }));

Deno.test("inspect prints keys, shapes, dtypes and values, as text and JSON", async () => {
  const text = await runCli(["inspect", fixturePath("torch/seed_checkpoint.pt")]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /top-level keys: delta_head, value_head, optimizer, cfg/);
  assert.match(text.stdout, /delta_head\.net\.0\.weight\s+float32\s+\[64, 41\]/);
  assert.match(text.stdout, /optimizer\.state\.0\.step\s+float32\s+\[\]\s+2\s+2\s+2/);
  const json = await runCli(["inspect", fixturePath("torch/misc.pt"), "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const info = JSON.parse(json.stdout) as {
    keys: string[];
    tensors: {
      key: string;
      dtype: string;
      shape: number[];
      min: number;
      max: number;
      mean: number;
    }[];
    values: Record<string, unknown>;
  };
  assert.deepEqual(info.keys, ["f32", "f64", "i64", "scalar", "row1", "transposed", "nested"]);
  const i64 = info.tensors.find((t) => t.key === "i64")!;
  assert.deepEqual([i64.dtype, i64.shape, i64.min, i64.max], ["int64", [3], -2, 3]);
  const tr = info.tensors.find((t) => t.key === "transposed")!;
  assert.deepEqual([tr.shape, tr.mean], [[4, 3], 5.5]);
  assert.deepEqual(info.values.nested, { list: [1, 2, "x", null, true], tuple: [1, 2] });
});

Deno.test("bad checkpoint files: one line, exit code 2, for --resume and inspect", () =>
  withTempDir(async (dir) => {
    const real = Deno.readFileSync(fixturePath("torch/seed_checkpoint.pt"));
    const zip = (entries: [string, Uint8Array][]) =>
      writeZip(entries.map(([name, data]) => ({ name, data })));
    const enc = new TextEncoder();
    // PROTO 2, GLOBAL 'os system', STOP
    const evil = new Uint8Array([0x80, 2, 0x63, ...enc.encode("os\nsystem\n"), 0x2e]);
    const files: [string, Uint8Array | null, RegExp][] = [
      ["missing.pt", null, /missing\.pt/],
      ["empty.pt", new Uint8Array(0), /empty\.pt: .*empty/],
      ["text.pt", enc.encode("hello, this is not a zip file at all"), /text\.pt: .*zip/],
      ["truncated.pt", real.slice(0, Math.floor(real.length / 2)), /truncated\.pt: /],
      ["nopkl.pt", zip([["x/version", enc.encode("3\n")]]), /nopkl\.pt: .*data\.pkl/],
      [
        "evil.pt",
        zip([["x/data.pkl", evil], ["x/version", enc.encode("3\n")]]),
        /evil\.pt: .*'os\.system'/,
      ],
      [
        "keys.pt",
        encodePt(new PtDict([["weights", 1]])),
        /keys\.pt: not a training checkpoint \(no 'delta_head'/,
      ],
    ];
    // A storage record shorter than its tensor: cut the last record of a real file.
    const short = Deno.readFileSync(fixturePath("torch/misc.pt"));
    files.push(["short.pt", shortenStorage(short), /short\.pt: .*(shorter|bytes)/]);
    for (const [name, bytes, pattern] of files) {
      const path = join(dir, name);
      if (bytes) Deno.writeFileSync(path, bytes);
      const commands = [["train", "--resume", path, "--out-dir", join(dir, "out")]];
      if (name !== "keys.pt") commands.push(["inspect", path]);
      for (const args of commands) {
        const r = await runCli(args);
        assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.match(lines[0], /^error: /);
        assert.match(lines[0], pattern, `${args.join(" ")}`);
      }
    }
    // Nothing was written for the failed resumes.
    assert.throws(() => Deno.statSync(join(dir, "out")));
    // A shape that does not fit the model is refused, naming key, expected and found shape.
    const run = join(dir, "shape", "checkpoints");
    Deno.mkdirSync(run, { recursive: true });
    Deno.copyFileSync(fixturePath("torch/seed_checkpoint.pt"), join(run, "checkpoint_50.pt"));
    const r = await runCli([
      "train",
      "--resume",
      join(run, "checkpoint_50.pt"),
      "--hidden-dim",
      "32",
      "--episodes",
      "60",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr.trim(),
      /^error: .*delta_head\.net\.0\.weight: has shape \[64, 41\] .*expected \[32, 41\]/,
    );
  }));

// Rewrites misc.pt so that storage record data/3 (the 0-d tensor's 4 bytes) holds 2 bytes.
function shortenStorage(bytes: Uint8Array): Uint8Array {
  const zip = new ZipReader(bytes, "misc.pt");
  return writeZip(zip.entries.map((e) => {
    const data = zip.read(e);
    return { name: e.name, data: e.name.endsWith("/data/3") ? data.slice(0, 2) : data };
  }));
}
