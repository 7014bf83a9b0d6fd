/**
 * How large the residual of the traffic expert itself is: on each held-out seed from 2^30,
 * the SFT planner alone is run once (did it complete the route without a collision?), then
 * the expert drives twice: with its own plan, and with its correction of the SFT plan
 * (`correct`, what a warm start labels with). At every step of each episode the L2 norm of
 * (expert's plan - SFT plan) over the 2H numbers is taken, the expert's "delta" on the SFT
 * planner. Per scenario kind: the episodes, how many the SFT planner alone completes, the
 * mean per step of each delta on those and on all, and the collision rate of each drive.
 * It is the `mean_delta_norm` of an `eval --output` record, for the expert as if it were the
 * refined policy, and the yardstick of a bound on |delta| where the SFT planner alone
 * succeeds. The traffic keys (`--expert-headway S`, `--expert-min-gap M`,
 * `--expert-stop-behind M`) may follow.
 *
 *   deno run -A bench/traffic_residual_report.ts [episodes] [--expert-headway S] [--expert-min-gap M]
 *     [--expert-stop-behind M]
 */

import { parseArgs } from "node:util";
import {
  builtinEnv,
  defaultSettings,
  EpisodeStatistics,
  HELDOUT_SEED_BASE,
  TrafficExpertPlanner,
} from "../src/env/mod.ts";
import type { Traffic, TrafficConfig } from "../src/env/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    "expert-headway": { type: "string" },
    "expert-min-gap": { type: "string" },
    "expert-stop-behind": { type: "string" },
  },
});
const count = Number(positionals[0] ?? 400);
const traffic = builtinEnv("traffic")!, settings = defaultSettings(traffic);
const knobs = settings.traffic as unknown as TrafficConfig;
if (values["expert-headway"]) knobs.expert_headway = Number(values["expert-headway"]);
if (values["expert-min-gap"]) knobs.expert_min_gap = Number(values["expert-min-gap"]);
if (values["expert-stop-behind"]) knobs.expert_stop_behind = Number(values["expert-stop-behind"]);
const sft = traffic.planners!.sft.make(settings);
const expert = traffic.planners!.expert.make(settings) as TrafficExpertPlanner;

type Drive = "sft" | "plan" | "correct";

// one episode of seed `seed` driven by `drive`; per step, |expert - SFT plan| (L2), the
// expert's plan for "sft" and "plan", its correction of the SFT plan for "correct"
async function episode(seed: number, drive: Drive) {
  const vec = new EpisodeStatistics(traffic.make(settings, 1));
  await vec.reset([seed]);
  const a = vec.actionDim, p = new Float64Array(a), e = new Float64Array(a);
  let sum = 0;
  for (;;) {
    sft.plan(vec.obs, 1, p);
    if (drive === "correct") expert.correct(vec.obs, p, 1, e);
    else expert.plan(vec.obs, 1, e);
    let sq = 0;
    for (let j = 0; j < a; j++) sq += (e[j] - p[j]) * (e[j] - p[j]);
    sum += Math.sqrt(sq);
    await vec.step(drive === "sft" ? p : e);
    if (vec.done[0]) break;
  }
  const kind = (vec.env as unknown as Traffic).episodeGroup(0);
  const collided = vec.terminated[0] === 1 && vec.success[0] !== 1;
  return { kind, success: vec.success[0] === 1, collided, residual: sum / vec.episodeLengths[0] };
}

interface Row {
  n: number;
  safe: number;
  // per drive ("plan", "correct"): residual summed on SFT-safe episodes, on all; collisions
  onSafe: number[];
  onAll: number[];
  collisions: number[];
}
const blank = (): Row => ({ n: 0, safe: 0, onSafe: [0, 0], onAll: [0, 0], collisions: [0, 0] });
const rows = new Map<string, Row>();
const all = blank();
for (let k = 0; k < count; k++) {
  const seed = HELDOUT_SEED_BASE + k;
  const alone = await episode(seed, "sft");
  const driven = [await episode(seed, "plan"), await episode(seed, "correct")];
  const row = rows.get(alone.kind) ?? blank();
  rows.set(alone.kind, row);
  for (const r of [row, all]) {
    r.n++;
    if (alone.success) r.safe++;
    driven.forEach((d, i) => {
      r.onAll[i] += d.residual;
      if (d.collided) r.collisions[i]++;
      if (alone.success) r.onSafe[i] += d.residual;
    });
  }
}
const f = (x: number) => x.toFixed(2).padStart(8);
console.log(
  `${count} held-out episodes, expert_headway ${knobs.expert_headway} s, expert_min_gap ${knobs.expert_min_gap} m, expert_stop_behind ${knobs.expert_stop_behind} m`,
);
console.log("the expert's |expert - SFT| per step, m (L2 over 2H), and its collision rate:");
console.log("                                       its plan                   its correction");
console.log(
  "kind               episodes  SFT completes  on those      all  coll.%  on those      all  coll.%",
);
for (const [kind, r] of [...rows, ["all", all] as const]) {
  const cells = [0, 1].map((i) =>
    `${r.safe > 0 ? f(r.onSafe[i] / r.safe) : "       -"} ${f(r.onAll[i] / r.n)} ${
      f(100 * r.collisions[i] / r.n)
    }`
  ).join(" ");
  console.log(
    `${kind.padEnd(18)} ${String(r.n).padStart(8)} ${String(r.safe).padStart(14)} ${cells}`,
  );
}
