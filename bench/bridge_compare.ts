/**
 * The Gymnasium bridge measured side by side with the same env written in TypeScript, in
 * one run: Pendulum-v1 through the bridge (`--env gym:Pendulum-v1`) against
 * `examples/pendulum.ts` (Gymnasium's Pendulum-v1 dynamics as an env module), each trained
 * through the CLI with the same PPO settings (the example's own defaults: 4 envs, 4000
 * steps per update, gamma 0.9, lr 5e-4, 200,000 env steps, observation normalisation) on
 * seeds 1-3; then the bridge's overhead per vector step (`bench/gym_bridge_report.ts`).
 * Prints the held-out mean return (400 episodes) per seed, their mean and spread, and the
 * whole run's env steps per second.
 *
 *     deno run -A bench/bridge_compare.ts [PYTHON]    (default: the test venv's python)
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const python = Deno.args[0] ?? join(ROOT, ".venv", "bin", "python");
const SEEDS = [1, 2, 3];
// the example's registered defaults, given to both so that only the env's code differs
const SAME = [
  "--num-envs",
  "4",
  "--steps-per-update",
  "4000",
  "--total-steps",
  "200000",
  "--gamma",
  "0.9",
  "--lr",
  "0.0005",
  "--norm-obs",
  "true",
  "--norm-reward",
  "false",
  "--eval-interval",
  "100",
  "--save-interval",
  "500",
  "--heldout-episodes",
  "400",
];
const ENVS: Array<{ name: string; flags: string[] }> = [
  { name: "examples/pendulum.ts", flags: ["--env", "./examples/pendulum.ts"] },
  { name: "gym:Pendulum-v1", flags: ["--env", "gym:Pendulum-v1", "--gym-python", python] },
];

interface Outcome {
  heldout: number;
  steps: number;
  stepsPerSecond: number;
}

async function train(flags: string[], seed: number, dir: string): Promise<Outcome> {
  const out = join(dir, `seed_${seed}`);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "train", ...flags, ...SAME, "--seed", String(seed)]
      .concat(["--quiet", "--out-dir", out]),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  const m = JSON.parse(Deno.readTextFileSync(join(out, "train_metrics.json")));
  return {
    heldout: m.heldout.refined.return_mean,
    steps: m.env_steps,
    stepsPerSecond: m.env_steps_per_second,
  };
}

const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const std = (x: number[]) => Math.sqrt(mean(x.map((v) => (v - mean(x)) ** 2)));

const dir = await Deno.makeTempDir({ prefix: "bridge_compare_" });
try {
  console.log("| env | seed 1 | seed 2 | seed 3 | mean ± std | env steps | env steps/s |");
  console.log("| --- | --: | --: | --: | --: | --: | --: |");
  for (const env of ENVS) {
    const runs: Outcome[] = [];
    for (const seed of SEEDS) {
      runs.push(await train(env.flags, seed, join(dir, env.name.replace(/\W/g, "_"))));
    }
    const returns = runs.map((r) => r.heldout);
    console.log(
      `| ${env.name} | ${returns.map((r) => r.toFixed(1)).join(" | ")} | ${
        mean(returns).toFixed(1)
      } ± ${std(returns).toFixed(1)} | ${runs[0].steps} | ${
        mean(runs.map((r) => r.stepsPerSecond)).toFixed(0)
      } |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log("\nThe bridge's overhead per vector step (bench/gym_bridge_report.ts):");
const overhead = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "bench/gym_bridge_report.ts", python, "1000"],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!overhead.success) Deno.exit(1);
