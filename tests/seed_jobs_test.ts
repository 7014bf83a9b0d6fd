/**
 * Local many-seed jobs (issue 18): a worker told to stop takes no new seed and the job
 * exits non-zero, printing the command that continues it; that same command run again
 * continues the job (finished seeds left as they are, the stopped one resumed, bit for
 * bit the run never stopped); the children die with their parent, SIGKILL included;
 * and one job writes a multi-seed folder at a time, `--overwrite` included.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, ROOT, SMOKE_ENV_FLAGS, withTempDir } from "./_helpers.ts";
import { PtDict, readPt, Tensor } from "../src/io/torch_pt.ts";
import type { SeedsSummary } from "../src/sweep/mod.ts";

const MAIN = join(ROOT, "main.ts");
const DENO = [Deno.execPath(), "run", "--allow-read", "--allow-write", "--allow-run", MAIN];
const FLAGS = [
  ...SMOKE_ENV_FLAGS,
  ...["--hidden-dim", "16", "--episodes", "400", "--update-epochs", "2"],
  ...["--eval-interval", "20", "--save-interval", "20", "--heldout-episodes", "4"],
  ...["--eval-episodes", "2"],
];

function spawn(args: string[]): Deno.ChildProcess {
  return new Deno.Command(DENO[0], {
    args: [...DENO.slice(1), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<{ code: number; stderr: string }> {
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

// Processes whose command line holds `text` (the lanes of a job: `--lane --out-dir DIR`).
function processesWith(text: string): number[] {
  const pattern = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const out = new Deno.Command("pgrep", { args: ["-f", "--", pattern], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l).map(Number);
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

Deno.test("a stopped worker takes no new seed; the same command continues the job exactly; children die with their parent", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "multi");
    const job = ["train", "--seeds", "1-4", "--jobs", "2", "--out-dir", out, ...FLAGS];
    const parent = spawn(job);
    await until("seed 1 under way", () => exists(join(out, "seed_1", "metrics.json")));
    const lanes = processesWith(`--lane --out-dir ${out}`);
    assert.equal(lanes.length, 2, `lanes: ${lanes}`);
    // SIGTERM to the worker training seed 1 (the first lane started)
    Deno.kill(Math.min(...lanes), "SIGTERM");
    const first = await finish(parent);
    assert.notEqual(first.code, 0, first.stderr);
    assert.match(first.stderr, /seeds did not finish; the same command continues them/);
    const summary = readJson(join(out, "summary.json")) as SeedsSummary;
    const stopped = summary.missing.find((m) => /^interrupted/.test(m.reason));
    assert.ok(stopped, JSON.stringify(summary.missing));
    // that worker took no new seed: nothing of it says "interrupted at episode 0"
    assert.ok(summary.missing.every((m) => m.reason !== "interrupted at episode 0"));

    // SIGKILL to the parent of the job run again: its workers stop (saving) and end.
    const second = spawn(job);
    await until("a lane", () => processesWith(`--lane --out-dir ${out}`).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    second.kill("SIGKILL");
    await finish(second);
    await until(
      "the lanes to end",
      () => processesWith(`--lane --out-dir ${out}`).length === 0,
      15_000,
    );

    // The same command, once more: the job finishes; each seed is the run never stopped.
    const third = await finish(spawn(job));
    assert.equal(third.code, 0, third.stderr);
    const done = readJson(join(out, "summary.json")) as SeedsSummary;
    assert.deepEqual(done.finished, [1, 2, 3, 4]);
    const single = join(dir, "single");
    const s = await finish(
      spawn(["train", "--seed", String(stopped.seed), "--out-dir", single, ...FLAGS, "--quiet"]),
    );
    assert.equal(s.code, 0, s.stderr);
    const [a, b] = [
      await readPt(join(out, `seed_${stopped.seed}`, "final.pt")),
      await readPt(join(single, "final.pt")),
    ] as PtDict[];
    for (const [k, t] of (a.get("delta_head") as PtDict).entries()) {
      assert.deepEqual((t as Tensor).data, ((b.get("delta_head") as PtDict).get(k) as Tensor).data);
    }
  }));

Deno.test("two jobs on one multi-seed folder: the second is refused, --overwrite included", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "multi");
    const job = [
      "train",
      "--seeds",
      "1-2",
      "--jobs",
      "1",
      "--out-dir",
      out,
      ...FLAGS,
      "--overwrite",
    ];
    const first = spawn(job);
    await until("the first job's lock", () => exists(join(out, ".lock")));
    const second = await finish(spawn(job));
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /--out-dir .*multi: in use by another process/);
    first.kill("SIGTERM");
    await finish(first);
  }));
