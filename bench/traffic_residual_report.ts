/**
 * How large the residual of the traffic expert itself is: on each held-out seed from 2^30,
 * the SFT planner alone is run once (did it complete the route without a collision?), then
 * the expert drives, and at every step of the expert's episode the L2 norm of (expert plan -
 * SFT plan) over the 2H numbers is taken, the expert's "delta" on the SFT planner. Per
 * scenario kind: the episodes, how many the SFT planner alone completes, and the mean per
 * step of the expert's delta on those and on all. It is the `mean_delta_norm` of an
 * `eval --output` record, for the expert as if it were the refined policy, and the yardstick
 * of a bound on |delta| where the SFT planner alone succeeds.
 *
 *   deno run -A bench/traffic_residual_report.ts [episodes]
 */

import {
  builtinEnv,
  defaultSettings,
  EpisodeStatistics,
  HELDOUT_SEED_BASE,
} from "../src/env/mod.ts";
import type { Traffic } from "../src/env/mod.ts";

const count = Number(Deno.args[0] ?? 400);
const traffic = builtinEnv("traffic")!, settings = defaultSettings(traffic);
const sft = traffic.planners!.sft.make(settings), expert = traffic.planners!.expert.make(settings);

// one episode of seed `seed` driven by `drive`; per step, |expert plan - SFT plan| (L2)
async function episode(seed: number, drive: "sft" | "expert") {
  const vec = new EpisodeStatistics(traffic.make(settings, 1));
  await vec.reset([seed]);
  const a = vec.actionDim, p = new Float64Array(a), e = new Float64Array(a);
  let sum = 0;
  for (;;) {
    sft.plan(vec.obs, 1, p);
    expert.plan(vec.obs, 1, e);
    let sq = 0;
    for (let j = 0; j < a; j++) sq += (e[j] - p[j]) * (e[j] - p[j]);
    sum += Math.sqrt(sq);
    await vec.step(drive === "sft" ? p : e);
    if (vec.done[0]) break;
  }
  const kind = (vec.env as unknown as Traffic).episodeGroup(0);
  return { kind, success: vec.success[0] === 1, residual: sum / vec.episodeLengths[0] };
}

const rows = new Map<string, { n: number; safe: number; onSafe: number; onAll: number }>();
const all = { n: 0, safe: 0, onSafe: 0, onAll: 0 };
for (let k = 0; k < count; k++) {
  const seed = HELDOUT_SEED_BASE + k;
  const alone = await episode(seed, "sft");
  const driven = await episode(seed, "expert");
  const row = rows.get(alone.kind) ?? { n: 0, safe: 0, onSafe: 0, onAll: 0 };
  rows.set(alone.kind, row);
  for (const r of [row, all]) {
    r.n++;
    r.onAll += driven.residual;
    if (alone.success) {
      r.safe++;
      r.onSafe += driven.residual;
    }
  }
}
const f = (x: number) => x.toFixed(2).padStart(8);
console.log(`${count} held-out episodes; the expert's |expert - SFT| per step, m (L2 over 2H)`);
console.log("kind               episodes  SFT completes  on those      all");
for (const [kind, r] of [...rows, ["all", all] as const]) {
  const safe = r.safe > 0 ? f(r.onSafe / r.safe) : "       -";
  console.log(
    `${kind.padEnd(18)} ${String(r.n).padStart(8)} ${String(r.safe).padStart(14)} ${safe} ${
      f(r.onAll / r.n)
    }`,
  );
}
