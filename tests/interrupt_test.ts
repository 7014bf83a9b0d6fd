/**
 * Ctrl-C: `train` saves a checkpoint at the episode it reached, writes its metrics and
 * exits with 130; resuming from that checkpoint finishes the run as if never stopped.
 * Also the `compile` task, skipped where no Deno runtime (denort) can be had.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readJson,
  ROOT,
  runCli,
  SMOKE_FLAGS,
  waitFor,
  withFlags,
  withTempDir,
} from "./_helpers.ts";
import { PtDict, readPt, Tensor } from "../src/io/torch_pt.ts";

const FLAGS = withFlags(SMOKE_FLAGS, { "--num-envs": "5" });

Deno.test("SIGINT saves a checkpoint and exits 130; resuming from it matches an uninterrupted run", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        join(ROOT, "main.ts"),
        "train",
        "--out-dir",
        out,
        ...withFlags(FLAGS, { "--episodes": "100000", "--save-interval": "100000" }),
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    // Once training is under way (the first metrics are written), press Ctrl-C.
    await waitFor(join(out, "metrics.json"), child);
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 130, err);
    // (a machine slow enough may see the stop inside a rollout, which is then dropped)
    const m =
      /interrupted at episode (\d+)(?: \(the iteration in progress was dropped\))?; saved (.*checkpoint_\d+\.pt)/
        .exec(err);
    assert.ok(m, err);
    const episode = Number(m[1]);
    assert.ok(episode >= 5 && episode % 5 === 0, `episode ${episode}`);
    const ckpt = await readPt(m[2]) as PtDict;
    assert.equal(ckpt.get("episode"), episode);
    const tm = readJson(join(out, "train_metrics.json")) as {
      interrupted: boolean;
      rewards: number[];
    };
    assert.equal(tm.interrupted, true);
    assert.equal(tm.rewards.length, episode);
    assert.throws(() => Deno.statSync(join(out, "final.pt")), "no final.pt for an interrupted run");

    // Resume to episode + 10 in place, and compare with a run that was never stopped.
    const target = String(episode + 10);
    const resumed = await runCli(["train", "--resume", m[2], "--episodes", target, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const straight = join(dir, "straight");
    const s = await runCli([
      "train",
      "--out-dir",
      straight,
      ...withFlags(FLAGS, { "--episodes": target, "--save-interval": "100000" }),
    ]);
    assert.equal(s.code, 0, s.stderr);
    const [a, b] = [
      await readPt(join(out, "final.pt")),
      await readPt(join(straight, "final.pt")),
    ] as PtDict[];
    for (const head of ["delta_head", "value_head"]) {
      for (const [k, t] of (a.get(head) as PtDict).entries()) {
        const u = (b.get(head) as PtDict).get(k) as Tensor;
        assert.deepEqual((t as Tensor).data, u.data, `${head}.${k}`);
      }
    }
    const rewards = (p: string) =>
      (readJson(join(p, "train_metrics.json")) as { rewards: number[] }).rewards;
    assert.deepEqual(rewards(out), rewards(straight));
  }));

const denort = Deno.env.get("DENORT_BIN");
const hasRuntime = denort !== undefined && (() => {
  try {
    return Deno.statSync(denort).isFile;
  } catch {
    return false;
  }
})();
if (!hasRuntime) {
  console.error(
    "compile test skipped: `deno compile` needs its runtime (denort) from the internet or DENORT_BIN; set DENORT_BIN to run it",
  );
}

Deno.test({
  name: "deno task compile builds one executable that runs the commands (needs DENORT_BIN)",
  ignore: !hasRuntime,
  fn: () =>
    withTempDir(async (dir) => {
      const exe = join(dir, "delta-waypoint");
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["compile", "--allow-read", "--allow-write", "--output", exe, join(ROOT, "main.ts")],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const help = await new Deno.Command(exe, { args: ["train", "--help"], stdout: "piped" })
        .output();
      assert.equal(help.code, 0);
      assert.match(new TextDecoder().decode(help.stdout), /--sft-model/);
      const run = await new Deno.Command(exe, {
        args: ["train", "--out-dir", join(dir, "run"), ...SMOKE_FLAGS],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      Deno.statSync(join(dir, "run", "final.pt"));
    }),
});
