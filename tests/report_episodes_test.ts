/**
 * `episodes.json` end to end: a short driving run records its held-out episodes (the
 * episodes drawn are the ones evaluated: same returns), `report` draws them with the
 * expert's row, and a bad file (not JSON, another format, a huge or non-increasing value,
 * too big, not a regular file) is one line and exit 2 with nothing written; a file of
 * another run's policy is skipped with a warning.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../main.ts";
import { runReport } from "../src/cli/report.ts";
import { UserError } from "../src/errors.ts";
import { runCli } from "./_helpers.ts";

const TEMP = Deno.makeTempDirSync({ prefix: "report_episodes_" });
globalThis.addEventListener("unload", () => Deno.removeSync(TEMP, { recursive: true }));

async function quiet<T>(fn: () => Promise<T>): Promise<{ result: T; stderr: string[] }> {
  const stderr: string[] = [];
  const [error, log] = [console.error, console.log];
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  console.log = () => {};
  try {
    return { result: await fn(), stderr };
  } finally {
    console.error = error;
    console.log = log;
  }
}

// One short driving run, shared by the tests (its folder is copied before a file is spoilt).
const RUN = join(TEMP, "run");
const trained = quiet(() =>
  main([
    "train",
    ...["--episodes", "20", "--eval-episodes", "5", "--heldout-episodes", "30"],
    ...["--out-dir", RUN, "--quiet"],
  ])
);

async function copyOfRun(name: string): Promise<string> {
  assert.equal((await trained).result, 0);
  const dir = join(TEMP, name);
  Deno.mkdirSync(dir);
  for (const f of ["config.json", "env.json", "metrics.json", "train_metrics.json"]) {
    Deno.copyFileSync(join(RUN, f), join(dir, f));
  }
  return dir;
}

/** The parts of `episodes.json` the tests read or spoil. */
interface Doc {
  total_episodes: number;
  heldout_seeds: [number, number];
  returns: { base: number[]; refined: number[] };
  view: {
    seeds: {
      seed: number;
      animated: boolean;
      base: { return: number; bodies: { poses: number[] }[] };
      refined: { return: number; frames: number[] };
    }[];
  };
}

const readDoc = (): Doc => JSON.parse(Deno.readTextFileSync(join(RUN, "episodes.json")));

Deno.test("a driving run records its held-out episodes; report draws them beside the expert", async () => {
  assert.equal((await trained).result, 0);
  const doc = readDoc();
  const heldout = JSON.parse(Deno.readTextFileSync(join(RUN, "train_metrics.json"))).heldout;
  assert.deepEqual(doc.heldout_seeds, heldout.seeds);
  assert.equal(doc.total_episodes, 20);
  assert.equal(doc.returns.refined.length, 30);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  assert.ok(Math.abs(mean(doc.returns.refined) - heldout.refined.return_mean) < 1e-9);
  assert.ok(Math.abs(mean(doc.returns.base) - heldout.sft.return_mean) < 1e-9);
  const seeds = doc.view.seeds;
  assert.ok(seeds.length >= 1 && seeds.length <= 3);
  assert.deepEqual(seeds.map((s) => s.animated), seeds.map((_, k) => k === 0));
  for (const s of seeds) {
    // the episode drawn is the one evaluated: the same return, bit for bit
    assert.equal(s.refined.return, doc.returns.refined[s.seed - doc.heldout_seeds[0]]);
    assert.equal(s.base.return, doc.returns.base[s.seed - doc.heldout_seeds[0]]);
  }
  const { result } = await quiet(() => runReport([RUN]));
  assert.equal(result, 0);
  const html = Deno.readTextFileSync(join(RUN, "report.html"));
  assert.equal([...html.matchAll(/<svg [^>]*class="episode-animation"/g)].length, 1);
  assert.equal([...html.matchAll(/<svg [^>]*class="episode-picture"/g)].length, seeds.length);
  assert.match(html, /<tr><th>expert<\/th><td class="num">\d+\.\d\d<\/td><td class="num">100\.0%/);
  assert.match(html, /<th>ADE m<\/th><th>FDE m<\/th><th>offroad<\/th>/);
  const svg = Deno.readTextFileSync(join(RUN, "report.svg"));
  assert.match(svg, /data-metric="expert_return"/);
  assert.match(svg, /data-metric="refined_returns"/);
});

// A copy of the run whose episodes.json is `spoil`'s; report must refuse it in one line.
async function refused(name: string, spoil: (path: string) => void, pattern: RegExp) {
  const dir = await copyOfRun(name);
  spoil(join(dir, "episodes.json"));
  let caught: unknown;
  try {
    await quiet(() => runReport([dir]));
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UserError, `${name}: expected a UserError, got ${caught}`);
  assert.equal(caught.exitCode, 2);
  assert.doesNotMatch(caught.message, /\n/);
  assert.match(caught.message, /episodes\.json/);
  assert.match(caught.message, pattern);
  for (const f of ["report.svg", "report.html"]) {
    assert.throws(() => Deno.statSync(join(dir, f)), Deno.errors.NotFound, `${name}: ${f}`);
  }
}

Deno.test("report refuses a bad episodes.json in one line, exit 2, writing nothing", async () => {
  const write = (text: string) => (path: string) => Deno.writeTextFileSync(path, text);
  const edited = (edit: (doc: Doc) => void) => (path: string) => {
    const doc = readDoc();
    edit(doc);
    Deno.writeTextFileSync(path, JSON.stringify(doc));
  };
  await refused("not_json", write("{not json"), /not valid JSON/);
  await refused("format", write(`{"format": "x", "version": 1}`), /format: expected/);
  await refused(
    "huge",
    edited((d) => (d.view.seeds[0].base.bodies[0].poses[3] = 1e300)),
    /view\.seeds\[0\]\.base\.bodies\[0\]\.poses\[3\]: expected a number in \[-1000000000, 1000000000\]/,
  );
  await refused(
    "huge_return",
    edited((d) => (d.returns.base[0] = -1e200)),
    /returns\.base\[0\]: expected a number/,
  );
  await refused(
    "frames",
    edited((d) => (d.view.seeds[0].refined.frames[2] = 1)),
    /view\.seeds\[0\]\.refined\.frames\[2\]: frames must increase/,
  );
  await refused(
    "poses",
    edited((d) => d.view.seeds[0].base.bodies[0].poses.pop()),
    /poses: expected x, y, yaw at each frame/,
  );
  await refused("deep", write("[".repeat(50) + "]".repeat(50)), /nests arrays and objects deeper/);
  await refused("big", (p) => {
    using f = Deno.openSync(p, { write: true, create: true });
    f.truncateSync(17 * 1024 * 1024);
  }, /limit/);
  await refused("device", (p) => Deno.symlinkSync("/dev/zero", p), /not a regular file/);
});

Deno.test("report skips the episodes of another run's policy with a warning", async () => {
  const dir = await copyOfRun("stale");
  const doc = readDoc();
  doc.total_episodes = 10;
  Deno.writeTextFileSync(join(dir, "episodes.json"), JSON.stringify(doc));
  const { result, stderr } = await quiet(() => runReport([dir]));
  assert.equal(result, 0);
  assert.match(stderr[0], /episodes\.json: recorded after 10 episodes .*; skipped$/);
  const html = Deno.readTextFileSync(join(dir, "report.html"));
  assert.doesNotMatch(html, /episode-picture/);
});

Deno.test("report through main.ts: a bad episodes.json is one line on stderr, exit 2", async () => {
  const dir = await copyOfRun("cli");
  Deno.writeTextFileSync(join(dir, "episodes.json"), `{"format": "delta-waypoint episodes"}`);
  const out = await runCli(["report", dir]);
  const stderr = out.stderr.trim();
  assert.equal(out.code, 2);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /^error: report: .*episodes\.json: format: expected/);
});
