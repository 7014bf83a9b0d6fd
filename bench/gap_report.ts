/**
 * Share of the SFT-to-expert return gap a default training run closes, over training
 * seeds: runs `main.ts train --seed S` for each seed (two at a time), reads the held-out
 * block of each run's `train_metrics.json`, and compares with the expert on the same
 * held-out seeds. Prints one row per seed and the mean, as a markdown table.
 *
 *     deno run -A bench/gap_report.ts --seeds 1-20 [--sft-model PATH] [--out DIR] [-- train flags]
 *
 * gap closed = (refined return - SFT return) / (expert return - SFT return). The last
 * two columns are taken on the states the refined policy visits: the SFT plan's ADE
 * (next to the refined plan's ADE, the usual one: how much of the ADE is the delta's
 * doing and how much is where the car drives), and the next route target's |y| in the
 * car frame (how far off the route line the car drives; the built-in planner's error
 * grows with the targets' lateral offsets).
 *
 * `--baseline DIR` (the `--out` folder of an earlier report, say of the runs before a
 * change) compares ADE per (training seed, held-out route): ADE is a mean over an
 * episode's steps, so a run that stops short of the goal and waits for the step limit
 * adds low-error steps to its mean; the comparison on the pairs both runs complete
 * leaves that out, and the baseline's unfinished episodes' share of the difference is
 * printed next to it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DEFAULT_ENV_CONFIG, type EnvConfig, HELDOUT_SEED_BASE } from "../src/env/mod.ts";
import { Driving, EpisodeStatistics } from "../src/env/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner } from "../src/env/mod.ts";
import { evaluatePolicy, modelFromCheckpoint, parseTrainerCheckpoint } from "../src/run/mod.ts";
import type { WaypointPlanner } from "../src/sft/mod.ts";
import type { EpisodeRecord } from "../src/run/mod.ts";
import type { ActorCritic } from "../src/nn/mod.ts";
import { loadSftPlanner } from "../src/sft/mod.ts";
import { readPt } from "../src/io/torch_pt.ts";

/**
 * An episode record of the driving env, its metrics typed (`DRIVING_METRICS`): the
 * research repo's evaluation schema's fields.
 */
interface DrivingEpisodeRecord extends EpisodeRecord {
  /** Mean over steps of the plan's ADE against the expert plan, meters. */
  ade: number;
  /** Mean over steps of the plan's FDE (last waypoint), meters. */
  fde: number;
  /** Fraction of the route's targets reached or passed, 0..1. */
  route_completion: number;
  /** Collisions: always 0, the toy env has no other road users. */
  collisions: number;
  /** 1 if the episode ended by leaving the corridor or the world, else 0. */
  offroad: number;
  /** Red lights run: always 0, the toy env has no traffic lights. */
  red_light: number;
  /** Meters of route left when the episode ended. */
  final_dist: number;
  /** Peak |longitudinal acceleration| (m/s^2) and |change of acceleration| / dt (m/s^3). */
  comfort: { max_accel: number; max_jerk: number };
}

/** A held-out block of `train_metrics.json` (named as `eval`'s summary). */
interface HeldoutSummary {
  return_mean: number;
  success_rate: number;
  ade_mean: number;
}

interface Row {
  seed: number;
  sft: HeldoutSummary;
  refined: HeldoutSummary;
  firstKl: number;
  /** ADE of the SFT plan alone on the states the refined policy visits */
  sftAdeOnRefined: number;
  /** mean |y| of the next target in the car frame on those states: how far off the route line the car drives */
  nextTargetOffset: number;
  /** the refined policy's held-out episodes, in seed order */
  episodes: DrivingEpisodeRecord[];
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "1-5" },
    "sft-model": { type: "string" },
    out: { type: "string" },
    jobs: { type: "string", default: "2" },
    baseline: { type: "string" },
  },
  allowPositionals: true,
});
const [lo, hi] = values.seeds.split("-").map(Number);
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
const out = values.out ?? Deno.makeTempDirSync({ prefix: "gap_report_" });
const plannerFlags = values["sft-model"] ? ["--sft-model", values["sft-model"]] : [];
const main = new URL("../main.ts", import.meta.url).pathname;

async function trainSeed(seed: number): Promise<Row> {
  const dir = join(out, `seed_${seed}`);
  const args = ["run", "-A", main, "train", "--seed", String(seed), "--out-dir", dir];
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [...args, "--overwrite", "--quiet", ...plannerFlags, ...positionals],
    stdout: "null",
    stderr: "piped",
  });
  const r = await cmd.output();
  if (r.code !== 0) throw new Error(`seed ${seed}: ${new TextDecoder().decode(r.stderr)}`);
  const tm = JSON.parse(Deno.readTextFileSync(join(dir, "train_metrics.json")));
  const metrics = JSON.parse(Deno.readTextFileSync(join(dir, "metrics.json")));
  const run = await loadRun(dir);
  const onStates = sftAdeOnRefinedStates(run.env, run);
  return {
    seed,
    sft: tm.heldout.sft,
    refined: tm.heldout.refined,
    firstKl: metrics[0].update.kl,
    sftAdeOnRefined: onStates.sftAde,
    nextTargetOffset: onStates.offset,
    episodes: heldoutEpisodes(run),
  };
}

/** A finished run folder's environment, final delta head and SFT planner. */
interface Run {
  env: EnvConfig;
  model: ActorCritic;
  planner: WaypointPlanner;
  /** held-out episodes of the closing evaluation */
  count: number;
  clip: number;
}

async function loadRun(dir: string): Promise<Run> {
  const tm = JSON.parse(Deno.readTextFileSync(join(dir, "train_metrics.json")));
  const env: EnvConfig = { ...DEFAULT_ENV_CONFIG, ...tm.config.env };
  const final = join(dir, "final.pt");
  const model = modelFromCheckpoint(
    parseTrainerCheckpoint(await readPt(final), final),
    1 + 2 * env.horizon_steps,
  );
  const planner = values["sft-model"]
    ? await loadSftPlanner(values["sft-model"], { horizon: env.horizon_steps, obsDim: model.inDim })
    : new BuiltinSftPlanner(env);
  return { env, model, planner, count: tm.heldout.seeds[1], clip: tm.config.ppo.delta_clip };
}

/** The run's held-out episodes (mean action), as the closing evaluation ran them. */
function heldoutEpisodes(run: Run): DrivingEpisodeRecord[] {
  return evaluatePolicy({
    makeEnv: (n) => new Driving(run.env, n),
    planner: run.planner,
    model: run.model,
    deltaClip: run.clip,
    firstSeed: HELDOUT_SEED_BASE,
    count: run.count,
  }).scenarios as DrivingEpisodeRecord[];
}

/**
 * Drives the held-out episodes with SFT + the clipped mean delta and returns the SFT
 * plan's ADE against the expert plan on those states and the next target's |y| (car
 * frame), each averaged as `evaluatePolicy` averages ADE (over the steps of an episode,
 * then over episodes).
 */
function sftAdeOnRefinedStates(
  env: EnvConfig,
  opts: { planner: WaypointPlanner; model: ActorCritic; count: number; clip: number },
): { sftAde: number; offset: number } {
  const { planner, model, count, clip } = opts;
  const h = env.horizon_steps, od = 1 + 2 * h, a = 2 * h, n = 20;
  const vec = new EpisodeStatistics(new Driving(env, n), { autoReset: true });
  const mean = new Float64Array(n * a), value = new Float64Array(n);
  const sft = new Float64Array(n * a), plan = new Float64Array(n * a);
  let total = 0, totalOffset = 0;
  for (let first = 0; first < count; first += n) {
    const rows = Math.min(n, count - first);
    vec.reset(Array.from({ length: n }, (_, i) => HELDOUT_SEED_BASE + first + i));
    const done = new Uint8Array(n), sum = new Float64Array(n), steps = new Float64Array(n);
    const offset = new Float64Array(n);
    for (let i = rows; i < n; i++) done[i] = 1;
    while (done.some((d) => d === 0)) {
      const obs = vec.obs;
      model.act(obs, n, mean, value);
      planner.plan(obs, n, sft);
      for (let j = 0; j < n * a; j++) plan[j] = sft[j] + Math.max(-clip, Math.min(clip, mean[j]));
      for (let i = 0; i < n; i++) {
        if (done[i]) continue;
        let d = 0;
        for (let k = 0; k < h; k++) {
          const ex = obs[i * od + 1 + 2 * k], ey = obs[i * od + 2 + 2 * k];
          d += Math.hypot(sft[i * a + 2 * k] - ex, sft[i * a + 2 * k + 1] - ey) / h;
        }
        sum[i] += d;
        offset[i] += Math.abs(obs[i * od + 2]);
        steps[i]++;
      }
      vec.step(plan);
      for (let i = 0; i < n; i++) {
        if (!done[i] && (vec.terminated[i] || vec.truncated[i])) {
          done[i] = 1;
          total += sum[i] / steps[i];
          totalOffset += offset[i] / steps[i];
        }
      }
    }
  }
  return { sftAde: total / count, offset: totalOffset / count };
}

const rows: Row[] = [];
const queue = [...seeds];
await Promise.all(
  Array.from({ length: Number(values.jobs) }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) rows.push(await trainSeed(s));
  }),
);
rows.sort((a, b) => a.seed - b.seed);

// the expert on the runs' environment and held-out seeds
const config = JSON.parse(Deno.readTextFileSync(join(out, `seed_${seeds[0]}`, "config.json")));
const env: EnvConfig = { ...DEFAULT_ENV_CONFIG, ...config.env };
const count: number = config.ppo.heldout_episodes;
const expert = evaluatePolicy({
  makeEnv: (n) => new Driving(env, n),
  planner: new ExpertPlanner(env),
  model: null,
  deltaClip: 0,
  firstSeed: HELDOUT_SEED_BASE,
  count,
}).summary.return_mean;

const gap = (r: Row) => (r.refined.return_mean - r.sft.return_mean) / (expert - r.sft.return_mean);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `${count} held-out episodes (seeds ${HELDOUT_SEED_BASE}..), expert return ${expert.toFixed(2)}`,
);
console.log(`runs in ${out}\n`);
console.log(
  "| seed | SFT return | refined return | gap closed | success | ADE m | first KL | SFT plan ADE on its states | next target's abs(y) m |",
);
console.log(
  "| ---: | ---------: | -------------: | ---------: | ------: | ----: | -------: | -------------------------: | ---------------------: |",
);
for (const r of rows) {
  console.log(
    `| ${r.seed} | ${r.sft.return_mean.toFixed(2)} | ${r.refined.return_mean.toFixed(2)} | ${
      (100 * gap(r)).toFixed(1)
    }% | ${(100 * r.refined.success_rate).toFixed(1)}% | ${r.refined.ade_mean.toFixed(3)} | ${
      r.firstKl.toFixed(4)
    } | ${r.sftAdeOnRefined.toFixed(3)} | ${r.nextTargetOffset.toFixed(3)} |`,
  );
}
const gaps = rows.map(gap);
console.log(
  `| mean | ${mean(rows.map((r) => r.sft.return_mean)).toFixed(2)} | ${
    mean(rows.map((r) => r.refined.return_mean)).toFixed(2)
  } | ${(100 * mean(gaps)).toFixed(1)}% (min ${(100 * Math.min(...gaps)).toFixed(1)}%) | ${
    (100 * mean(rows.map((r) => r.refined.success_rate))).toFixed(1)
  }% | ${mean(rows.map((r) => r.refined.ade_mean)).toFixed(3)} | max ${
    Math.max(...rows.map((r) => r.firstKl)).toFixed(4)
  } | ${mean(rows.map((r) => r.sftAdeOnRefined)).toFixed(3)} | ${
    mean(rows.map((r) => r.nextTargetOffset)).toFixed(3)
  } |`,
);

if (values.baseline) await compareWithBaseline(values.baseline);

/**
 * ADE against the runs in `baseline` (same seeds), per (training seed, held-out route):
 * over all pairs, over the pairs both runs complete, and the share of the difference
 * that comes from the routes the baseline's run did not complete.
 */
async function compareWithBaseline(baseline: string): Promise<void> {
  let pairs = 0, both = 0, adeNow = 0, adeBase = 0, bothNow = 0, bothBase = 0;
  let unfinished = 0, cut = 0, unfinishedDiff = 0;
  for (const r of rows) {
    const base = heldoutEpisodes(await loadRun(join(baseline, `seed_${r.seed}`)));
    r.episodes.forEach((now, i) => {
      const b = base[i];
      pairs++;
      adeNow += now.ade;
      adeBase += b.ade;
      if (now.success && b.success) {
        both++;
        bothNow += now.ade;
        bothBase += b.ade;
      }
      if (!b.success) {
        unfinished++;
        if (b.raw.truncated) cut++;
        unfinishedDiff += now.ade - b.ade;
      }
    });
  }
  console.log(`\nADE against ${baseline}, per (training seed, held-out route), ${pairs} pairs:`);
  console.log(
    `- all: ${(adeNow / pairs).toFixed(3)} m, baseline ${(adeBase / pairs).toFixed(3)} m`,
  );
  console.log(
    `- the ${both} pairs both runs complete: ${(bothNow / both).toFixed(3)} m, baseline ${
      (bothBase / both).toFixed(3)
    } m`,
  );
  console.log(
    `- the baseline's ${unfinished} unfinished episodes (${cut} cut at the step limit) account for ${
      (unfinishedDiff / pairs).toFixed(3)
    } m of the difference`,
  );
}
