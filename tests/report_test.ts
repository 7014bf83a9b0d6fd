/**
 * `report`: charts of a run folder. The SVG must be well-formed with one series
 * element per plotted metric, the HTML must inline it, and old or broken run folders
 * must give a report or a one-line error, never a crash.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { reportHelp, runReport } from "../src/cli/report.ts";
import { main } from "../main.ts";
import {
  escapeXml,
  formatNumber,
  movingAverage,
  niceTicks,
  renderPanel,
  renderReportSvg,
} from "../src/report/mod.ts";
import { UserError } from "../src/errors.ts";
import { ROOT, runCli } from "./_helpers.ts";

const ENTRY_COUNT = 6;
const REWARD_COUNT = 60;

function fullEntry(i: number): Record<string, unknown> {
  const episode = 10 * (i + 1);
  return {
    episode,
    mean_reward: -5 + i,
    mean_length: 40 - i,
    total_episodes: episode,
    success_rate: i / 10,
    update: {
      policy_loss: -0.01 * i,
      value_loss: 3 - 0.4 * i,
      entropy: 2.5 - 0.1 * i,
      kl: 0.002 * (i + 1),
      clip_fraction: 0.05 + 0.01 * i,
      explained_variance: 0.1 * i,
    },
    eval: { mean_delta_norm: 0.3 + 0.05 * i, max_delta_norm: 1 + 0.1 * i, std_delta_norm: 0.1 },
    timestamp: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
    heldout: {
      return_mean: -4 + 1.2 * i,
      success_rate: 0.1 * i,
      ade_mean: 2 - 0.2 * i,
      fde_mean: 4 - 0.3 * i,
    },
    sft_heldout: { return_mean: -3 },
  };
}

function trainMetrics(): Record<string, unknown> {
  return {
    start_time: "2025-01-01T00:00:00.000Z",
    end_time: "2025-01-01T00:06:00.000Z",
    config: { out_dir: "x", sft_model: null, env: { world_size: 50 }, ppo: { episodes: 60 } },
    final_metrics: { mean_reward_100ep: 1.5, mean_length_100ep: 30, total_episodes: 60 },
    rewards: Array.from({ length: REWARD_COUNT }, (_, i) => Math.sin(i / 5) + i / 20),
    lengths: Array.from({ length: REWARD_COUNT }, () => 30),
    heldout: {
      seeds: [1000000, 8],
      sft: { return_mean: -3, success_rate: 0.25, steps_mean: 35 },
      refined: { return_mean: 2, success_rate: 0.5, steps_mean: 30 },
    },
    sft_eval: { return_mean: -3, ade_mean: 2.2, fde_mean: 4.5 },
  };
}

/** Stands for a file that the fake run folder does not have. */
const ABSENT = Symbol("absent");

const TEMP_ROOT = Deno.makeTempDirSync({ prefix: "report_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(TEMP_ROOT, { recursive: true }));

function fakeRun(metrics: unknown, train: unknown): string {
  const dir = Deno.makeTempDirSync({ dir: TEMP_ROOT, prefix: "run_" });
  if (metrics !== ABSENT) {
    Deno.writeTextFileSync(join(dir, "metrics.json"), JSON.stringify(metrics));
  }
  if (train !== ABSENT) {
    Deno.writeTextFileSync(join(dir, "train_metrics.json"), JSON.stringify(train));
  }
  return dir;
}

/** Checks that `xml` is well-formed: balanced tags, quoted attributes, one root. */
function assertWellFormed(xml: string, root: string): void {
  const stack: string[] = [];
  const roots: string[] = [];
  const tag =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let at = 0;
  for (const m of xml.matchAll(tag)) {
    const text = xml.slice(at, m.index);
    assert.doesNotMatch(
      text,
      /<|&(?!(amp|lt|gt|quot|#39|#\d+);)/,
      `bad text before offset ${m.index}: ${text}`,
    );
    at = m.index + m[0].length;
    if (m[2] === undefined) continue; // comment or processing instruction
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> at offset ${m.index} closes the wrong tag`);
    } else {
      if (stack.length === 0) roots.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  const rest = xml.slice(at);
  assert.doesNotMatch(rest, /<|&(?!(amp|lt|gt|quot|#39|#\d+);)/, `bad trailing text: ${rest}`);
  assert.deepEqual(stack, [], `unclosed tags: ${stack.join(", ")}`);
  assert.deepEqual(roots, [root]);
}

function metricCounts(svg: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of svg.matchAll(/<(?:path|polyline)\b[^>]*\bclass="series"[^>]*>/g)) {
    const metric = /data-metric="([^"]*)"/.exec(m[0])?.[1] ?? "(none)";
    counts.set(metric, (counts.get(metric) ?? 0) + 1);
  }
  return counts;
}

/** Runs `runReport` with stderr/stdout captured. */
async function quietly<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; stderr: string[]; stdout: string[] }> {
  const stderr: string[] = [], stdout: string[] = [];
  const [error, log] = [console.error, console.log];
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  console.log = (...a: unknown[]) => stdout.push(a.join(" "));
  try {
    return { result: await fn(), stderr, stdout };
  } finally {
    console.error = error;
    console.log = log;
  }
}

async function rejectsWithUserError(
  fn: () => Promise<unknown>,
  pattern: RegExp,
): Promise<UserError> {
  let caught: unknown;
  try {
    await quietly(fn);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${caught}`);
  assert.equal(caught.exitCode, 2);
  assert.match(caught.message, pattern);
  assert.doesNotMatch(caught.message, /\n/);
  return caught;
}

const ALL_METRICS = [
  "reward",
  "reward_ma",
  "sft_heldout_mean",
  "expert_heldout_mean",
  "eval_return",
  "sft_return",
  "eval_success_rate",
  "kl",
  "clip_fraction",
  "entropy",
  "delta_norm",
  "ade",
  "fde",
  "sft_ade",
  "sft_fde",
];

Deno.test("report writes a well-formed SVG with one series per metric, and an HTML page inlining it", async () => {
  const dir = fakeRun(Array.from({ length: ENTRY_COUNT }, (_, i) => fullEntry(i)), trainMetrics());
  const { result, stderr } = await quietly(() => runReport([dir]));
  assert.equal(result, 0);
  const svgPath = join(dir, "report.svg"), htmlPath = join(dir, "report.html");
  assert.deepEqual(stderr, [`report: wrote ${svgPath}`, `report: wrote ${htmlPath}`]);

  const svg = Deno.readTextFileSync(svgPath);
  assertWellFormed(svg, "svg");
  const counts = metricCounts(svg);
  assert.deepEqual([...counts.keys()].sort(), [...ALL_METRICS].sort());
  for (const [metric, n] of counts) assert.equal(n, 1, `${metric} drawn ${n} times`);
  assert.doesNotMatch(svg, /no data/);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  // Every panel labels its x axis; y axes name what they show.
  assert.equal([...svg.matchAll(/class="axis-label"[^>]*>episode</g)].length, 7);
  for (
    const label of [
      "return",
      "mean return",
      "success rate (%)",
      "approx KL",
      "clip fraction",
      "entropy (nats)",
      "mean (m)",
    ]
  ) {
    assert.ok(svg.includes(`>${escapeXml(label)}</text>`), `y axis label '${label}' missing`);
  }
  // Legends where a panel has more than one series.
  assert.match(svg, />moving average \(5 episodes\)</);
  assert.match(svg, />SFT planner</);
  assert.match(svg, /class="band"/);
  // 60 rewards: the episode-return path has 60 points.
  const reward = /data-metric="reward" d="([^"]*)"/.exec(svg)![1];
  assert.equal(reward.split(/[ML]/).filter((s) => s.trim()).length, REWARD_COUNT);

  const html = Deno.readTextFileSync(htmlPath);
  assertWellFormed(
    html.replace(/^<!DOCTYPE html>\n/, "").replace(/<meta charset="utf-8">/, ""),
    "html",
  );
  assert.ok(html.includes(svg), "the HTML inlines the SVG");
  assert.match(html, new RegExp(`<title>${dir.split("/").at(-1)}`));
  assert.match(html, /Held-out evaluation/);
  assert.match(
    html,
    /<th>SFT \+ delta<\/th><td class="num">2\.00<\/td><td class="num">50\.0%<\/td><td class="num">30\.0<\/td>/,
  );
  // the expert on the same held-out seeds (no config.json: the default env, built in)
  assert.match(html, /<tr><th>expert<\/th><td class="num">\d+\.\d\d<\/td>/);
  assert.match(html, /<th colspan="2" class="group">PPO update<\/th><\/tr>\n<tr><td>policy loss/);
  assert.match(html, /<td>approx KL<\/td><td class="num">0\.012<\/td>/);
  assert.match(
    html,
    /<p class="headline">SFT planner → SFT \+ delta, held out on 8 episodes: mean return -3\.00 → 2\.00/,
  );
  assert.doesNotMatch(html, /\b(src|href)=|url\(|@import/, "no external resources");
});

Deno.test("report of entries without ade/fde or eval keys still renders, leaving those panels out", async () => {
  const old = Array.from({ length: 4 }, (_, i) => {
    const e = fullEntry(i);
    for (const k of ["heldout", "sft_heldout", "success_rate"]) delete e[k];
    return e;
  });
  const { sft_eval: _, heldout: __, ...train } = trainMetrics();
  const dir = fakeRun(old, train);
  const { result } = await quietly(() => runReport([dir]));
  assert.equal(result, 0);
  const svg = Deno.readTextFileSync(join(dir, "report.svg"));
  assertWellFormed(svg, "svg");
  const counts = metricCounts(svg);
  assert.deepEqual(
    [...counts.keys()].sort(),
    ["clip_fraction", "delta_norm", "entropy", "kl", "reward", "reward_ma"],
  );
  assert.equal([...svg.matchAll(/class="no-data"/g)].length, 0);
  assert.equal([...svg.matchAll(/class="panel"/g)].length, 4);
  assert.doesNotMatch(Deno.readTextFileSync(join(dir, "report.html")), /Held-out evaluation/);
});

Deno.test("report reads a train_metrics.json with the names used before eval's", async () => {
  const train = {
    ...trainMetrics(),
    heldout: {
      seeds: [1000000, 8],
      sft: { mean_return: -3, success_rate: 0.25, mean_length: 35 },
      refined: { mean_return: 2.5, success_rate: 0.75, mean_length: 31 },
    },
    sft_eval: { return: -3, ade: 2.2, fde: 4.5 },
  };
  const dir = fakeRun([0, 1, 2].map(fullEntry), train);
  const { result } = await quietly(() => runReport([dir]));
  assert.equal(result, 0);
  const html = Deno.readTextFileSync(join(dir, "report.html"));
  assert.match(
    html,
    /<th>SFT \+ delta<\/th><td class="num">2\.50<\/td><td class="num">75\.0%<\/td><td class="num">31\.0<\/td>/,
  );
  // the SFT planner's ADE/FDE still draw as references
  const counts = metricCounts(Deno.readTextFileSync(join(dir, "report.svg")));
  assert.ok(counts.has("sft_ade") && counts.has("sft_fde"), [...counts.keys()].join(", "));
});

Deno.test("report of a metrics.json with the names used before heldout / sft_heldout draws the same", async () => {
  const entries = Array.from({ length: ENTRY_COUNT }, (_, i) => fullEntry(i));
  const old = entries.map(({ heldout, sft_heldout, ...e }) => {
    const h = heldout as Record<string, number>, s = sft_heldout as Record<string, number>;
    return {
      ...e,
      eval_return: h.return_mean,
      eval_success_rate: h.success_rate,
      ade: h.ade_mean,
      fde: h.fde_mean,
      sft_eval_return: s.return_mean,
    };
  });
  // the SVG of a run folder, its (random) folder name aside
  const svgOf = async (metrics: unknown[]) => {
    const dir = fakeRun(metrics, trainMetrics());
    const { result } = await quietly(() => runReport([dir]));
    assert.equal(result, 0);
    return Deno.readTextFileSync(join(dir, "report.svg")).replaceAll(dir.split("/").at(-1)!, "RUN");
  };
  const [now, before] = [await svgOf(entries), await svgOf(old)];
  assert.deepEqual([...metricCounts(before).keys()].sort(), [...ALL_METRICS].sort());
  assert.equal(before, now);
});

Deno.test("report survives NaN, null, strings, a single entry and no train_metrics.json", async () => {
  const e = fullEntry(0);
  (e.update as Record<string, unknown>).kl = null;
  (e.update as Record<string, unknown>).entropy = "high";
  (e.heldout as Record<string, unknown>).fde_mean = "NaN";
  const weird = [e, 42, null, { episode: 20, update: null, eval: [] }];
  const dir = fakeRun(weird, ABSENT);
  const { result } = await quietly(() => runReport([dir]));
  assert.equal(result, 0);
  const svg = Deno.readTextFileSync(join(dir, "report.svg"));
  assertWellFormed(svg, "svg");
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  const counts = metricCounts(svg);
  // No rewards list: the return panel falls back to metrics.json's mean_reward.
  assert.ok(counts.has("mean_reward"));
  assert.ok(
    !counts.has("reward") && !counts.has("kl") && !counts.has("entropy") && !counts.has("fde"),
  );
  assert.ok(counts.has("clip_fraction") && counts.has("ade") && counts.has("eval_return"));

  // An empty list is a run that has not reached its first eval: every panel is empty.
  const empty = fakeRun([], ABSENT);
  await quietly(() => runReport([empty]));
  const emptySvg = Deno.readTextFileSync(join(empty, "report.svg"));
  assertWellFormed(emptySvg, "svg");
  assert.equal([...emptySvg.matchAll(/class="no-data"/g)].length, 7);
});

Deno.test("report: a broken train_metrics.json is skipped with a warning", async () => {
  const dir = fakeRun([fullEntry(0), fullEntry(1)], ABSENT);
  Deno.writeTextFileSync(join(dir, "train_metrics.json"), "{not json");
  const { result, stderr } = await quietly(() => runReport([dir]));
  assert.equal(result, 0);
  assert.match(stderr[0], /train_metrics\.json: not valid JSON .*; skipped$/);
  assertWellFormed(Deno.readTextFileSync(join(dir, "report.svg")), "svg");
});

Deno.test("report rejects a folder without metrics.json, naming the file", async () => {
  const dir = fakeRun(ABSENT, ABSENT);
  const err = await rejectsWithUserError(() => runReport([dir]), /not found/);
  assert.ok(err.message.includes(join(dir, "metrics.json")), err.message);
  assert.ok(err.message.includes(`is ${dir} a run folder?`), err.message);
  assert.throws(() => Deno.statSync(join(dir, "report.svg")), Deno.errors.NotFound);
});

Deno.test("report rejects metrics.json that is not a JSON list", async () => {
  const notList = fakeRun({ episode: 1 }, ABSENT);
  await rejectsWithUserError(() => runReport([notList]), /metrics\.json: expected a JSON list/);
  const notJson = fakeRun(ABSENT, ABSENT);
  Deno.writeTextFileSync(join(notJson, "metrics.json"), "[1, 2");
  await rejectsWithUserError(() => runReport([notJson]), /metrics\.json: not valid JSON/);
});

Deno.test("report reads regular files only: metrics.json linked to /dev/zero is refused", async () => {
  const dir = fakeRun(ABSENT, ABSENT);
  Deno.symlinkSync("/dev/zero", join(dir, "metrics.json"));
  const err = await rejectsWithUserError(() => runReport([dir]), /not a regular file/);
  assert.ok(err.message.includes(join(dir, "metrics.json")), err.message);
  assert.throws(() => Deno.statSync(join(dir, "report.svg")), Deno.errors.NotFound);
});

Deno.test("report rejects unknown flags and a wrong number of run folders", async () => {
  const dir = fakeRun([fullEntry(0)], trainMetrics());
  await rejectsWithUserError(() => runReport([dir, "--bogus"]), /^report: .*bogus/);
  await rejectsWithUserError(() => runReport([]), /expected one run folder, got none/);
  await rejectsWithUserError(() => runReport([dir, dir]), /expected one run folder, got 2/);
  assert.throws(() => Deno.statSync(join(dir, "report.svg")), Deno.errors.NotFound);
  const { result, stdout } = await quietly(() => runReport(["--help"]));
  assert.equal(result, 0);
  assert.deepEqual(stdout, [reportHelp()]);
});

Deno.test("chart helpers: ticks, number format, moving average, degenerate series", () => {
  assert.deepEqual(niceTicks(0.3, 9.2, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.1, 0.3, 2), [0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(0.05, 0.32, 3), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(1, 6, 10, { integer: true, inside: true }), [1, 2, 3, 4, 5, 6]);
  assert.equal(formatNumber(0.012345), "0.0123");
  assert.equal(formatNumber(1234.5), "1230");
  assert.equal(formatNumber(25000), "25k");
  assert.equal(formatNumber(-3e-5), "-3e-5");
  assert.equal(formatNumber(0), "0");
  assert.deepEqual([...movingAverage([1, 2, 3, 4], 2)], [1, 1.5, 2.5, 3.5]);
  assert.deepEqual([...movingAverage([1, null, 3, NaN, NaN], 2)], [1, 1, 3, 3, NaN]);

  const box = { x: 0, y: 0, width: 640, height: 360 };
  const panel = (points: [number, number][]) => ({
    title: "t <&>",
    xLabel: "episode",
    yLabel: "y",
    series: [{ metric: "m", label: "m", color: "#000", points }],
  });
  for (
    const points of [
      [[5, 1]],
      [[1, 2], [2, 2], [3, 2]],
      [[1, 0], [2, 0]],
      [[1, NaN], [2, Infinity], [3, 1e300], [4, -1e300], [5, 1.7e308], [6, -1.7e308]],
      [[1, 1e-9], [2, 1.000001e-9]],
    ] as [number, number][][]
  ) {
    const g = `<svg>${renderPanel(panel(points), box)}</svg>`;
    assertWellFormed(g, "svg");
    assert.equal(metricCounts(g).get("m"), 1, JSON.stringify(points));
    assert.doesNotMatch(g, /NaN|Infinity/, JSON.stringify(points));
  }
  // Long series are thinned per pixel column, keeping extremes.
  const long = Array.from(
    { length: 100_000 },
    (_, i) => [i, i === 5000 ? 100 : Math.sin(i)] as [number, number],
  );
  const g = renderPanel(panel(long), box);
  assert.ok(g.length < 100_000, `${g.length} chars`);
  assert.match(g, />100</, "the y axis reaches the spike");
  const d = /data-metric="m" d="([^"]*)"/.exec(g)![1];
  const ys = [...d.matchAll(/,([\d.]+)/g)].map((m) => Number(m[1]));
  const [, top, height] = /<rect x="\d+" y="(\d+)" width="\d+" height="(\d+)"/.exec(g)!.map(Number);
  assert.ok(Math.min(...ys) < top + 0.1 * height, "the spike survives thinning");
  assert.equal(
    renderReportSvg({ name: "a&b", metrics: [], trainMetrics: null }).includes("a&amp;b"),
    true,
  );
});

Deno.test("report of a multi-seed mountain_car folder: its metric and base policy, no ADE", async () => {
  const out = join(Deno.makeTempDirSync({ dir: TEMP_ROOT, prefix: "mcs_" }), "seeds");
  const args = ["train", "--env", "mountain_car", "--seeds", "1", "--episodes", "16"];
  const trained = await quietly(() => main([...args, "--out-dir", out, "--quiet"]));
  assert.equal(trained.result, 0, trained.stderr.join("\n"));
  const { result } = await quietly(() => runReport([out]));
  assert.equal(result, 0);
  const svg = Deno.readTextFileSync(join(out, "report.svg"));
  assertWellFormed(svg, "svg");
  const counts = metricCounts(svg);
  assert.ok(counts.has("max_position_mean") && counts.has("sft_max_position"));
  assert.ok(!counts.has("ade_mean") && !counts.has("sft_ade"), [...counts.keys()].join());
  assert.doesNotMatch(svg, /ADE|SFT|no data/);
  assert.match(svg, />zero base policy alone</);
});

Deno.test("src/report imports nothing outside itself; cli reaches it through its mod.ts", () => {
  const root = fileURLToPath(new URL("../src/", import.meta.url));
  for (const entry of Deno.readDirSync(join(root, "report"))) {
    const text = Deno.readTextFileSync(join(root, "report", entry.name));
    for (const m of text.matchAll(/^(?:import|export)[^;]*? from "([^"]+)";/gms)) {
      assert.match(m[1], /^\.\/[a-z_]+\.ts$/, `src/report/${entry.name} imports ${m[1]}`);
    }
  }
  for (const entry of Deno.readDirSync(join(root, "cli"))) {
    const text = Deno.readTextFileSync(join(root, "cli", entry.name));
    for (const m of text.matchAll(/ from "(\.\.\/report\/[^"]+)";/g)) {
      assert.equal(m[1], "../report/mod.ts", `src/cli/${entry.name} imports ${m[1]}`);
    }
  }
});

const registered = /\breport\b/.test(Deno.readTextFileSync(join(ROOT, "main.ts")));

Deno.test({
  name: "report through main.ts: files written, errors as one line with exit code 2",
  ignore: !registered,
  async fn() {
    const dir = fakeRun(
      Array.from({ length: ENTRY_COUNT }, (_, i) => fullEntry(i)),
      trainMetrics(),
    );
    const ok = await runCli(["report", dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(
      ok.stderr.includes(join(dir, "report.svg")) && ok.stderr.includes(join(dir, "report.html")),
    );
    assertWellFormed(Deno.readTextFileSync(join(dir, "report.svg")), "svg");

    const missing = await runCli(["report", join(dir, "nope")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr.trim(), /^error: report: .*nope\/metrics\.json: not found/);
    assert.equal(missing.stderr.trim().split("\n").length, 1);

    const flag = await runCli(["report", dir, "--nope"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--nope/);
  },
});

Deno.test("report of a mountain_car run: its own metrics and base policy, no driving panel", async () => {
  const out = join(Deno.makeTempDirSync({ dir: TEMP_ROOT, prefix: "mc_" }), "run");
  const args = ["train", "--env", "mountain_car", "--episodes", "16", "--out-dir", out, "--quiet"];
  const trained = await quietly(() => main(args));
  assert.equal(trained.result, 0, trained.stderr.join("\n"));
  const { result } = await quietly(() => runReport([out]));
  assert.equal(result, 0);
  const svg = Deno.readTextFileSync(join(out, "report.svg"));
  assertWellFormed(svg, "svg");
  const counts = metricCounts(svg);
  assert.ok(
    counts.has("max_position") && counts.has("sft_max_position"),
    [...counts.keys()].join(),
  );
  for (const driving of ["ade", "fde", "sft_ade", "sft_fde"]) assert.ok(!counts.has(driving));
  assert.doesNotMatch(svg, /ADE|FDE|\(m\)|SFT|no data/);
  assert.match(svg, />Held-out eval return vs zero base policy</);
  assert.match(svg, /env mountain_car/);
  const html = Deno.readTextFileSync(join(out, "report.html"));
  assert.match(html, /<th>zero base policy<\/th>.*\n<tr><th>PPO policy<\/th>/);
  assert.doesNotMatch(html, /<th>SFT/);

  // Stray driving keys in a mountain_car run's entries still draw no ADE panel; a panel
  // whose metrics are absent is left out rather than drawn empty.
  const dir = fakeRun(
    [0, 1, 2].map((i) => {
      const { eval: _, ...e } = fullEntry(i);
      return { ...e, heldout: { ...e.heldout as object, max_position_mean: 0.1 * i } };
    }),
    ABSENT,
  );
  Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify({ env_name: "mountain_car" }));
  await quietly(() => runReport([dir]));
  const stray = Deno.readTextFileSync(join(dir, "report.svg"));
  assertWellFormed(stray, "svg");
  assert.ok(!metricCounts(stray).has("ade") && !metricCounts(stray).has("delta_norm"));
  assert.doesNotMatch(stray, /Waypoint error|Delta norm|no data/);
  assert.equal([...stray.matchAll(/class="panel"/g)].length, 6);
});
