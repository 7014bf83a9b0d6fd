/**
 * Nothing lost (issue 18): `train --overwrite` and `sft --overwrite` on a full disk (a
 * 1 MiB tmpfs) leave the old run as it was (exit 2 when not even the new run's first files
 * fit, before training starts; exit 4 once it trains); `eval --output` never replaces a
 * device or FIFO; a run killed during its closing held-out evaluation is finished by
 * resuming from its newest checkpoint, with the held-out results of a run never stopped.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readJson,
  ROOT,
  SMOKE_FLAGS,
  snapshot,
  TINY_SFT_FLAGS,
  waitFor,
  withFlags,
  withTempDir,
} from "./_helpers.ts";

const MAIN = join(ROOT, "main.ts");

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

// Fills the file system of `dir` up to `leaveBytes` free.
function fill(dir: string, leaveBytes: number): void {
  const free = Number(
    new TextDecoder().decode(
      new Deno.Command("df", { args: ["--output=avail", "-B1", dir] }).outputSync().stdout,
    ).trim().split("\n")[1],
  );
  Deno.writeFileSync(join(dir, "filler"), new Uint8Array(Math.max(0, free - leaveBytes)));
}

Deno.test("--overwrite on a full disk: the old run stays whole (exit 2 before training, 4 during; train and sft)", () =>
  withTempDir(async (dir) => {
    const disk = join(dir, "disk");
    Deno.mkdirSync(disk);
    await sh("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]);
    try {
      const run = join(disk, "run");
      const tiny = withFlags(SMOKE_FLAGS, { "--hidden-dim": "8" });
      const first = await cli(["train", "--out-dir", run, ...tiny]);
      assert.equal(first.code, 0, first.stderr);
      const sft = join(disk, "sft");
      const s = await cli(["sft", "--out-dir", sft, ...TINY_SFT_FLAGS, "--quiet"]);
      assert.equal(s.code, 0, s.stderr);
      const before = [snapshot(run), snapshot(sft)];
      // no room for the new run's first files (config.json, env.json, the event file,
      // progress.csv): the folder cannot be written, exit 2, before training starts
      fill(disk, 12 * 1024);
      const refused = await cli(["train", "--out-dir", run, ...tiny, "--seed", "7", "--overwrite"]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--out-dir .*: cannot write the run there: No space left/);
      // sft writes its files at the end: a fault while writing, exit 4
      const sftAgain = await cli([
        "sft",
        "--out-dir",
        sft,
        ...TINY_SFT_FLAGS,
        "--seed",
        "7",
        "--overwrite",
      ]);
      assert.equal(sftAgain.code, 4, sftAgain.stderr);
      // room for those, not for the first checkpoint: a fault while training, exit 4
      Deno.removeSync(join(disk, "filler"));
      fill(disk, 28 * 1024);
      const again = await cli(["train", "--out-dir", run, ...tiny, "--seed", "7", "--overwrite"]);
      assert.equal(again.code, 4, again.stderr);
      assert.match(
        again.stderr,
        /I\/O error while writing the run in .*; the run already in .* is unchanged/,
      );
      for (const [i, path] of [run, sft].entries()) {
        const after = snapshot(path);
        assert.deepEqual([...after.keys()].sort(), [...before[i].keys()].sort(), path);
        for (const [file, { bytes }] of before[i]) {
          assert.deepEqual(after.get(file)!.bytes, bytes, file);
        }
      }
      // with room again, --overwrite replaces the old run whole
      Deno.removeSync(join(disk, "filler"));
      const third = await cli(["train", "--out-dir", run, ...tiny, "--seed", "7", "--overwrite"]);
      assert.equal(third.code, 0, third.stderr);
      assert.equal((readJson(join(run, "config.json")) as { ppo: { seed: number } }).ppo.seed, 7);
      assert.deepEqual([...Deno.readDirSync(run)].filter((e) => e.name.startsWith(".")), []);
      // the old run's event file went with the rest of it: one run's scalars
      const events = [...Deno.readDirSync(run)].filter((e) => e.name.startsWith("events.out."));
      assert.equal(events.length, 1, events.map((e) => e.name).join(" "));
    } finally {
      await sh("umount", [disk]);
    }
  }));

Deno.test("eval --output refuses a device or a FIFO, with or without --overwrite", () =>
  withTempDir(async (dir) => {
    const fifo = join(dir, "fifo");
    await sh("mkfifo", [fifo]);
    // a device node of our own (as /dev/null is; never the real one, which a failing
    // version of this test would destroy)
    const device = join(dir, "null");
    await sh("mknod", ["-m", "666", device, "c", "1", "3"]);
    for (const target of [device, fifo]) {
      const r = await cli(["eval", "--episodes", "1", "--output", target, "--overwrite"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /--output .*: is a (character device|FIFO); only a regular file is replaced/,
      );
    }
    assert.ok(Deno.lstatSync(device).isCharDevice);
    assert.ok(Deno.lstatSync(fifo).isFifo);
  }));

Deno.test("a run killed during its closing evaluation is finished by resuming from its newest checkpoint", () =>
  withTempDir(async (dir) => {
    const flags = withFlags(SMOKE_FLAGS, { "--heldout-episodes": "3000" });
    const whole = join(dir, "whole");
    const w = await cli(["train", "--out-dir", whole, ...flags]);
    assert.equal(w.code, 0, w.stderr);
    const killed = join(dir, "killed");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "train", "--out-dir", killed, ...flags],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(join(killed, "final.pt"), child);
    child.kill("SIGKILL");
    await child.status;
    let heldout: unknown = null;
    try {
      heldout = (readJson(join(killed, "train_metrics.json")) as { heldout: unknown }).heldout;
    } catch {
      // no train_metrics.json yet
    }
    assert.equal(heldout ?? null, null, "killed before the closing evaluation ended");
    const r = await cli(["train", "--resume", join(killed, "final.pt"), "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const tm = (d: string) => readJson(join(d, "train_metrics.json")) as Record<string, unknown>;
    assert.deepEqual(tm(killed).heldout, tm(whole).heldout);
    assert.deepEqual(tm(killed).rewards, tm(whole).rewards);
  }));

Deno.test("--keep-checkpoints N keeps only the newest N periodic checkpoints", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const flags = withFlags(SMOKE_FLAGS, { "--episodes": "40", "--save-interval": "10" });
    const r = await cli(["train", "--out-dir", out, ...flags, "--keep-checkpoints", "2"]);
    assert.equal(r.code, 0, r.stderr);
    const names = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name).sort();
    assert.deepEqual(names, ["checkpoint_30.pt", "checkpoint_40.pt"]);
    const bad = await cli(["train", "--out-dir", join(dir, "x"), "--keep-checkpoints", "0"]);
    assert.equal(bad.code, 2, bad.stderr);
  }));
