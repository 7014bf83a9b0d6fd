/**
 * Closed-loop numbers of the traffic env's planners (no learning): collision rate,
 * success, route completion and off-route share per scenario kind, for the built-in SFT
 * planner (route only) and the traffic expert, on seeds from 2^30.
 *
 *   deno run -A bench/traffic_report.ts [episodes] [--config FILE]
 */

import {
  DEFAULT_TRAFFIC_CONFIG,
  EpisodeStatistics,
  HELDOUT_SEED_BASE,
  Traffic,
  TRAFFIC_ENV_DEFAULTS,
  TRAFFIC_METRICS,
  TrafficExpertPlanner,
  ZPrefixPlanner,
} from "../src/env/mod.ts";
import { BuiltinSftPlanner, TRAFFIC_SFT_OPTIONS } from "../src/env/mod.ts";

const episodes = Number(Deno.args[0] ?? 400);
const env = { ...TRAFFIC_ENV_DEFAULTS };
const traffic = { ...DEFAULT_TRAFFIC_CONFIG };
const n = 20;
const col = TRAFFIC_METRICS.findIndex((m) => m.name === "collisions");
const rc = TRAFFIC_METRICS.findIndex((m) => m.name === "route_completion");
const off = TRAFFIC_METRICS.findIndex((m) => m.name === "offroad");
for (const name of ["sft", "expert"]) {
  const venv = new EpisodeStatistics(new Traffic(env, n, { traffic }), { autoReset: true });
  const planner = name === "sft"
    ? new ZPrefixPlanner(new BuiltinSftPlanner(env, TRAFFIC_SFT_OPTIONS), { obsDim: venv.obsDim })
    : new TrafficExpertPlanner(env, traffic);
  const byKind = new Map<string, number[]>();
  const seeds = Array.from({ length: n }, (_, i) => HELDOUT_SEED_BASE + i);
  venv.reset(seeds);
  const plans = new Float64Array(n * venv.actionDim);
  let done = 0;
  const kinds = venv.env.current.map((s) => s.kind!);
  while (done < episodes) {
    planner.plan(venv.obs, n, plans);
    const seedsBefore = [...venv.seeds];
    venv.step(plans);
    for (let i = 0; i < n; i++) {
      if (!(venv.terminated[i] || venv.truncated[i])) continue;
      if (seedsBefore[i] >= HELDOUT_SEED_BASE + episodes) continue;
      const m = TRAFFIC_METRICS.length * i;
      const k = kinds[i];
      const row = byKind.get(k) ?? [0, 0, 0, 0, 0];
      row[0]++;
      row[1] += venv.episodeMetrics[m + col];
      row[2] += venv.success[i];
      row[3] += venv.episodeMetrics[m + rc];
      row[4] += venv.episodeMetrics[m + off];
      byKind.set(k, row);
      done++;
      kinds[i] = venv.env.current[i].kind!;
    }
  }
  const all = [0, 0, 0, 0, 0];
  console.log(`${name}: kind  n  collide  success  route  offroad`);
  for (const [k, r] of [...byKind].sort()) {
    r.forEach((x, j) => (all[j] += x));
    console.log(
      `  ${k.padEnd(16)} ${r[0]}  ${(r[1] / r[0]).toFixed(2)}  ${(r[2] / r[0]).toFixed(2)}  ${
        (r[3] / r[0]).toFixed(2)
      }  ${(r[4] / r[0]).toFixed(2)}`,
    );
  }
  console.log(
    `  ${"all".padEnd(16)} ${all[0]}  ${(all[1] / all[0]).toFixed(3)}  ${
      (all[2] / all[0]).toFixed(3)
    }  ${(all[3] / all[0]).toFixed(3)}  ${(all[4] / all[0]).toFixed(3)}`,
  );
}
