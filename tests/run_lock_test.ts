/**
 * One writer per run folder: `<out-dir>/.lock` is taken before anything is written.
 * Two `train` processes started together on one folder (with or without --overwrite):
 * exactly one succeeds, the other exits 2 with one line naming the folder and the
 * owner's pid, and the folder holds the winner's files only. A lock left by a process
 * that is gone is taken over with a warning, and leftover temporary files of
 * interrupted atomic writes are removed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runCli, SMOKE_FLAGS, withFlags, withTempDir } from "./_helpers.ts";
import { PtDict, readPt } from "../src/io/torch_pt.ts";
import { LOCK_FILE, lockRunDir } from "../src/io/run_dir.ts";

const FLAGS = withFlags(SMOKE_FLAGS, { "--episodes": "200", "--save-interval": "50" });

function spawnTrain(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", join(ROOT, "main.ts"), "train", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

// Every file under `dir` (relative paths), sorted.
function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

for (const overwrite of [false, true]) {
  Deno.test(
    `two train processes started together on one --out-dir${
      overwrite ? " with --overwrite" : ""
    }: one wins, the other exits 2`,
    () =>
      withTempDir(async (dir) => {
        const out = join(dir, "run");
        const extra = overwrite ? ["--overwrite"] : [];
        const seeds = ["101", "202"];
        const children = seeds.map((seed) =>
          spawnTrain(["--out-dir", out, ...withFlags(FLAGS, { "--seed": seed }), ...extra])
        );
        const results = await Promise.all(children.map((c) => c.output()));
        const dec = new TextDecoder();
        const codes = results.map((r) => r.code).sort();
        assert.deepEqual(codes, [0, 2], results.map((r) => dec.decode(r.stderr)).join("\n"));
        const winner = results.findIndex((r) => r.code === 0);
        const loser = 1 - winner;
        const err = dec.decode(results[loser].stderr).trimEnd();
        assert.equal(err.split("\n").length, 1, err);
        assert.match(err, /^error: --out-dir .*run: in use by another process \(pid (\d+)/);
        assert.equal(Number(/pid (\d+)/.exec(err)![1]), children[winner].pid);

        // The folder holds the winner's run only, and no lock once it is done.
        const files = listFiles(out);
        assert.ok(!files.includes(LOCK_FILE), files.join(", "));
        assert.ok(files.includes("final.pt") && files.includes("config.json"), files.join(", "));
        const config = JSON.parse(Deno.readTextFileSync(join(out, "config.json")));
        assert.equal(config.ppo.seed, Number(seeds[winner]));
        for (const f of files.filter((f) => f.endsWith(".pt"))) {
          const cfg = (await readPt(join(out, f)) as PtDict).get("cfg") as PtDict;
          assert.equal(cfg.get("seed"), Number(seeds[winner]), f);
        }
        assert.ok(files.every((f) => !/\.tmp-/.test(f)), files.join(", "));
      }),
  );
}

Deno.test("a folder locked by a live process is refused; a dead owner's lock is taken over, stale temp files removed; a symlinked .lock is refused", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    // This test process owns the folder: train must refuse it and write nothing.
    const lock = lockRunDir(out);
    const refused = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`in use by another process \\(pid ${Deno.pid}`));
    assert.deepEqual(listFiles(out), [LOCK_FILE]);
    const sft = await runCli(["sft", "--out-dir", out, "--episodes", "2"]);
    assert.equal(sft.code, 2, sft.stderr);
    assert.match(sft.stderr, /in use by another process/);
    lock.release();
    assert.deepEqual(listFiles(out), []);

    // A lock whose owner has exited (the pid of a finished child), and the temp files a
    // killed writer left behind.
    const child = new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
    await child.status;
    const probe = lockRunDir(join(dir, "probe")); // a lock as the program writes it
    const dead = JSON.parse(Deno.readTextFileSync(probe.path));
    probe.release();
    dead.pid = child.pid;
    Deno.writeTextFileSync(join(out, LOCK_FILE), JSON.stringify(dead));
    Deno.mkdirSync(join(out, "checkpoints"));
    const stale = [
      join(out, `metrics.json.tmp-${child.pid}-abc123`),
      join(out, "checkpoints", `checkpoint_5.pt.tmp-${child.pid}-zz9`),
    ];
    for (const f of stale) Deno.writeTextFileSync(f, "half");
    const taken = await runCli(["train", "--out-dir", out, ...SMOKE_FLAGS]);
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(
      taken.stderr,
      new RegExp(
        `^warning: .*run: took over the lock of pid ${child.pid}, which is no longer running\\n$`,
      ),
    );
    const files = listFiles(out);
    assert.ok(files.includes("final.pt"), files.join(", "));
    assert.ok(!files.includes(LOCK_FILE), files.join(", "));
    assert.ok(files.every((f) => !/\.tmp-/.test(f)), files.join(", "));

    // A .lock that is a symlink is never opened (taking it over would truncate its target).
    const other = join(dir, "other");
    const target = join(dir, "precious.txt");
    Deno.writeTextFileSync(target, "keep me");
    Deno.mkdirSync(other);
    Deno.symlinkSync(target, join(other, LOCK_FILE));
    const linked = await runCli(["train", "--out-dir", other, ...SMOKE_FLAGS]);
    assert.equal(linked.code, 2, linked.stderr);
    assert.match(
      linked.stderr,
      /^error: --out-dir .*other: .*\.lock is not a regular file; remove it\n$/,
    );
    assert.equal(Deno.readTextFileSync(target), "keep me");
  }));
