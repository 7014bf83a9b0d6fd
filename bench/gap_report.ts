/**
 * Share of the SFT-to-expert return gap a default training run closes, over training
 * seeds: runs `main.ts train --seed S` for each seed (two at a time), reads the held-out
 * block of each run's `train_metrics.json`, and compares with the expert on the same
 * held-out seeds. Prints one row per seed and the mean, as a markdown table.
 *
 *     deno run -A bench/gap_report.ts --seeds 1-20 [--sft-model PATH] [--out DIR] [-- train flags]
 *
 * gap closed = (refined return - SFT return) / (expert return - SFT return).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DEFAULT_ENV_CONFIG, type EnvConfig, HELDOUT_SEED_BASE } from "../src/env/mod.ts";
import { evaluatePolicy, ExpertPlanner } from "../src/sft/mod.ts";

interface HeldoutSummary {
  mean_return: number;
  success_rate: number;
  ade: number;
}

interface Row {
  seed: number;
  sft: HeldoutSummary;
  refined: HeldoutSummary;
  firstKl: number;
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "1-5" },
    "sft-model": { type: "string" },
    out: { type: "string" },
    jobs: { type: "string", default: "2" },
  },
  allowPositionals: true,
});
const [lo, hi] = values.seeds.split("-").map(Number);
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
const out = values.out ?? Deno.makeTempDirSync({ prefix: "gap_report_" });
const planner = values["sft-model"] ? ["--sft-model", values["sft-model"]] : [];
const main = new URL("../main.ts", import.meta.url).pathname;

async function trainSeed(seed: number): Promise<Row> {
  const dir = join(out, `seed_${seed}`);
  const args = ["run", "-A", main, "train", "--seed", String(seed), "--out-dir", dir];
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [...args, "--overwrite", "--quiet", ...planner, ...positionals],
    stdout: "null",
    stderr: "piped",
  });
  const r = await cmd.output();
  if (r.code !== 0) throw new Error(`seed ${seed}: ${new TextDecoder().decode(r.stderr)}`);
  const tm = JSON.parse(Deno.readTextFileSync(join(dir, "train_metrics.json")));
  const metrics = JSON.parse(Deno.readTextFileSync(join(dir, "metrics.json")));
  return { seed, sft: tm.heldout.sft, refined: tm.heldout.refined, firstKl: metrics[0].update.kl };
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
  env,
  planner: new ExpertPlanner(env),
  model: null,
  deltaClip: 0,
  firstSeed: HELDOUT_SEED_BASE,
  count,
}).summary.return_mean;

const gap = (r: Row) => (r.refined.mean_return - r.sft.mean_return) / (expert - r.sft.mean_return);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `${count} held-out episodes (seeds ${HELDOUT_SEED_BASE}..), expert return ${expert.toFixed(2)}`,
);
console.log(`runs in ${out}\n`);
console.log("| seed | SFT return | refined return | gap closed | success | ADE m | first KL |");
console.log("| ---: | ---------: | -------------: | ---------: | ------: | ----: | -------: |");
for (const r of rows) {
  console.log(
    `| ${r.seed} | ${r.sft.mean_return.toFixed(2)} | ${r.refined.mean_return.toFixed(2)} | ${
      (100 * gap(r)).toFixed(1)
    }% | ${(100 * r.refined.success_rate).toFixed(1)}% | ${r.refined.ade.toFixed(3)} | ${
      r.firstKl.toFixed(4)
    } |`,
  );
}
const gaps = rows.map(gap);
console.log(
  `| mean | ${mean(rows.map((r) => r.sft.mean_return)).toFixed(2)} | ${
    mean(rows.map((r) => r.refined.mean_return)).toFixed(2)
  } | ${(100 * mean(gaps)).toFixed(1)}% (min ${(100 * Math.min(...gaps)).toFixed(1)}%) | ${
    (100 * mean(rows.map((r) => r.refined.success_rate))).toFixed(1)
  }% | ${mean(rows.map((r) => r.refined.ade)).toFixed(3)} | max ${
    Math.max(...rows.map((r) => r.firstKl)).toFixed(4)
  } |`,
);
