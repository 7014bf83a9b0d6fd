/**
 * Everything a checkpoint holds is checked before anything is written: a NaN or an
 * infinity in a weight or an Adam moment, a `cfg` value outside the range its flag
 * accepts, an RNG state that is not four uint32 words, a best record with a NaN, a
 * history whose length does not match the episode. `train --resume` and `eval` refuse
 * such a file with exit 2 and one line naming the file and the key, and write nothing.
 * The bad files are made from a real run's checkpoint with the project's own writer.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, SMOKE_FLAGS, snapshot, withTempDir } from "./_helpers.ts";
import { PtDict, readPt, Tensor, writePt } from "../src/io/torch_pt.ts";
import type { PtValue } from "../src/io/torch_pt.ts";

/** One hostile edit of a good checkpoint, and what the error line must name. */
interface Case {
  name: string;
  edit: (root: PtDict) => void;
  names: RegExp;
}

const dict = (root: PtDict, ...keys: (string | number)[]): PtDict =>
  keys.reduce<PtValue>((d, k) => (d as PtDict).get(k)!, root) as PtDict;

const firstEntry = (root: PtDict): PtDict => (root.get("metrics") as PtValue[])[0] as PtDict;

const setFirst = (value: number) => (t: PtValue | undefined) => {
  (t as Tensor).data[0] = value;
};

const CASES: Case[] = [
  {
    name: "NaN in delta_head net.0.weight",
    edit: (r) => setFirst(NaN)(dict(r, "delta_head").get("net.0.weight")),
    names: /delta_head\.net\.0\.weight: holds a non-finite value \(NaN\) at index 0/,
  },
  {
    name: "NaN in an Adam moment",
    edit: (r) => setFirst(NaN)(dict(r, "optimizer", "state", 1).get("exp_avg")),
    names: /optimizer\.state\.1 \(delta_head\.net\.0\.weight\)\.exp_avg: holds a non-finite/,
  },
  {
    name: "a negative Adam second moment",
    edit: (r) => setFirst(-1)(dict(r, "optimizer", "state", 0).get("exp_avg_sq")),
    names: /optimizer\.state\.0 \(delta_head\.log_std\)\.exp_avg_sq: holds a negative value/,
  },
  {
    name: "Inf in log_std",
    edit: (r) => setFirst(Infinity)(dict(r, "delta_head").get("log_std")),
    names: /delta_head\.log_std: holds a non-finite value \(Infinity\)/,
  },
  {
    name: "NaN value-head bias",
    edit: (r) => setFirst(NaN)(dict(r, "value_head").get("net.2.bias")),
    names: /value_head\.net\.2\.bias: holds a non-finite value/,
  },
  {
    name: "NaN output bias",
    edit: (r) => setFirst(NaN)(dict(r, "delta_head").get("net.4.bias")),
    names: /delta_head\.net\.4\.bias: holds a non-finite value/,
  },
  {
    name: "an RNG state of three words",
    edit: (r) => dict(r, "rng").set("policy", [1, 2, 3]),
    names: /rng\.policy: expected four uint32 words, not all zero, got \[1,2,3\]/,
  },
  {
    name: "an RNG word above 2^32 - 1",
    edit: (r) => dict(r, "rng").set("shuffle", [1, 2, 3, 2 ** 32]),
    names: /rng\.shuffle: expected four uint32 words/,
  },
  {
    name: "best.return_mean NaN",
    edit: (r) => dict(r, "best").set("return_mean", NaN),
    names: /best\.return_mean: expected a finite number, got NaN/,
  },
  {
    name: "an old best record's eval_return NaN",
    edit: (r) => r.set("best", new PtDict([["episode", 5], ["eval_return", NaN], ["ade", 1]])),
    names: /best\.eval_return: expected a finite number, got NaN/,
  },
  {
    name: "cfg.delta_clip -5",
    edit: (r) => dict(r, "cfg").set("delta_clip", -5),
    names: /cfg\.delta_clip: expected a number in \[0, 1000000\], got -5/,
  },
  {
    name: "cfg.delta_clip NaN",
    edit: (r) => dict(r, "cfg").set("delta_clip", NaN),
    names: /cfg\.delta_clip: expected a number in \[0, 1000000\], got NaN/,
  },
  {
    name: "env_cfg.dt a string",
    edit: (r) => dict(r, "env_cfg").set("dt", "fast"),
    names: /env_cfg\.dt: expected a finite number/,
  },
  {
    name: "a metrics entry whose update.kl is a string",
    edit: (r) => dict(firstEntry(r), "update").set("kl", "0.01"),
    names: /metrics\[0\]\.update\.kl: expected a number, got "0\.01"/,
  },
  {
    name: "a metrics entry without heldout.return_mean",
    edit: (r) => dict(firstEntry(r), "heldout").delete("return_mean"),
    names: /metrics\[0\]\.heldout\.return_mean: expected a number, got nothing/,
  },
  {
    name: "a metrics entry without heldout",
    edit: (r) => firstEntry(r).delete("heldout"),
    names: /metrics\[0\]\.heldout: expected a dict, got nothing/,
  },
  {
    name: "rewards shorter than the episode",
    edit: (r) => r.set("rewards", (r.get("rewards") as number[]).slice(1)),
    names: /rewards: holds 9 entries, expected 10 \(one per episode\)/,
  },
  {
    name: "an episode that is not an integer",
    edit: (r) => r.set("episode", 2.5),
    names: /: episode: expected an integer in \[0, 1e9\], got 2\.5/,
  },
];

// Cases that `eval` (which reads weights and cfg, not the training state) must refuse.
const EVAL_CASES = new Set([
  "NaN in delta_head net.0.weight",
  "Inf in log_std",
  "NaN value-head bias",
  "NaN output bias",
  "cfg.delta_clip -5",
  "cfg.delta_clip NaN",
  "env_cfg.dt a string",
]);

function assertOneLineError(r: { code: number; stderr: string }, file: string, names: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].startsWith(`error: ${file}: `), lines[0]);
  assert.match(lines[0], names);
}

Deno.test("a checkpoint with invalid state is refused by train --resume and eval: exit 2, one line, nothing written", () =>
  withTempDir(async (dir) => {
    const run = join(dir, "run");
    const made = await runCli(["train", "--out-dir", run, ...SMOKE_FLAGS]);
    assert.equal(made.code, 0, made.stderr);
    const good = join(run, "checkpoints", "checkpoint_10.pt");
    // the untouched file resumes and evaluates (the edits below are what is refused)
    const ok = await runCli(["eval", "--policy", good, "--episodes", "2"]);
    assert.equal(ok.code, 0, ok.stderr);

    for (const c of CASES) {
      const root = await readPt(good) as PtDict;
      c.edit(root);
      const caseDir = join(dir, c.name.replaceAll(/[^a-z0-9]+/gi, "_"));
      const checkpoints = join(caseDir, "checkpoints");
      Deno.mkdirSync(checkpoints, { recursive: true });
      const bad = join(checkpoints, "checkpoint_10.pt");
      await writePt(bad, root);
      const before = snapshot(caseDir);

      // resume into a fresh folder: refused, the folder never made
      const fresh = join(dir, "fresh");
      const r = await runCli([
        "train",
        "--resume",
        bad,
        "--out-dir",
        fresh,
        "--episodes",
        "20",
        "--quiet",
      ]);
      assertOneLineError(r, bad, c.names);
      assert.throws(() => Deno.statSync(fresh), Deno.errors.NotFound, `${c.name}: ${fresh}`);
      if (c === CASES[0]) {
        // resume in place: refused, the run folder untouched
        const inPlace = await runCli(["train", "--resume", bad, "--episodes", "20", "--quiet"]);
        assertOneLineError(inPlace, bad, c.names);
        assert.deepEqual(snapshot(caseDir), before, c.name);
      }

      if (EVAL_CASES.has(c.name)) {
        const out = join(dir, "eval.json");
        const e = await runCli(["eval", "--policy", bad, "--episodes", "2", "--output", out]);
        assertOneLineError(e, bad, c.names);
        assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, `${c.name}: ${out}`);
      }
    }
  }));
