/**
 * `sft`: behaviour cloning of an MLP waypoint planner from (noisy) expert rollouts.
 * Writes `<out-dir>/model.pt` (the SFT checkpoint `train --sft-model` loads),
 * `config.json` and `train_metrics.json`, and reports the planner's closed-loop quality
 * on held-out seeds.
 *
 * Also runnable on its own: `deno run --allow-read --allow-write src/cli/sft.ts --help`.
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../math/errors.ts";
import { Rng } from "../math/mod.ts";
import { DEFAULT_ENV_CONFIG, validateEnvConfig } from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import {
  BuiltinSftPlanner,
  collectDemonstrations,
  DEFAULT_SFT_CONFIG,
  evaluatePlannerAde,
  MlpPlanner,
  SFT_HELDOUT_SEED_BASE,
  trainBehaviourCloning,
  validateSftConfig,
} from "../sft/mod.ts";
import type { PlannerAdeSummary, SftConfig } from "../sft/mod.ts";
import { writeJson } from "../io/run_dir.ts";
import { saveSftPlanner, SFT_CHECKPOINT_FORMAT } from "../io/sft_checkpoint.ts";
import { parseFlags, parseNumber } from "./_flags.ts";
import type { NumberKind } from "./_flags.ts";

/** Where `sft` writes by default. */
export const DEFAULT_SFT_OUT_DIR = "out/sft_waypoint_bc";

/** Files whose presence means a folder already holds an SFT run. */
export const SFT_RUN_FILES = ["model.pt", "config.json", "train_metrics.json"];

/** The whole configuration of an `sft` run, as written to `config.json`. */
export interface SftRunConfig {
  out_dir: string;
  env: EnvConfig;
  sft: SftConfig;
}

interface NumberFlag {
  flag: string;
  /** Config key it sets: "env.x" / "sft.x". */
  key: string;
  kind: NumberKind;
  lo: number;
  hi: number;
  exclusiveLow?: boolean;
  help: string;
}

const NUMBER_FLAGS: NumberFlag[] = [
  {
    flag: "episodes",
    key: "sft.episodes",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "demonstration episodes",
  },
  { flag: "epochs", key: "sft.epochs", kind: "int", lo: 1, hi: 1e6, help: "passes over the data" },
  {
    flag: "lr",
    key: "sft.lr",
    kind: "float",
    lo: 0,
    hi: 1,
    exclusiveLow: true,
    help: "Adam learning rate (decayed linearly to 0)",
  },
  {
    flag: "batch-size",
    key: "sft.batch_size",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "examples per optimizer step",
  },
  {
    flag: "hidden-dim",
    key: "sft.hidden_dim",
    kind: "int",
    lo: 1,
    hi: 4096,
    help: "width of the MLP's hidden layer",
  },
  {
    flag: "weight-decay",
    key: "sft.weight_decay",
    kind: "float",
    lo: 0,
    hi: 100,
    help: "Adam L2 penalty (standardized weights)",
  },
  {
    flag: "seed",
    key: "sft.seed",
    kind: "int",
    lo: 0,
    hi: 2 ** 32 - 1,
    help: "the one seed of the run",
  },
  {
    flag: "noise-std",
    key: "sft.noise_std",
    kind: "float",
    lo: 0,
    hi: 100,
    help: "std of the lateral offset on the driven expert plan, m",
  },
  {
    flag: "heldout-episodes",
    key: "sft.heldout_episodes",
    kind: "int",
    lo: 0,
    hi: 1e6,
    help: "held-out episodes evaluated at the end (seeds from 2^30)",
  },
  {
    flag: "horizon-steps",
    key: "env.horizon_steps",
    kind: "int",
    lo: 1,
    hi: 1000,
    help: "waypoints per plan (H)",
  },
  {
    flag: "max-episode-steps",
    key: "env.max_episode_steps",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "steps before an episode is truncated",
  },
  {
    flag: "world-size",
    key: "env.world_size",
    kind: "float",
    lo: 1,
    hi: 1e6,
    help: "side of the square world, m",
  },
  {
    flag: "waypoint-spacing",
    key: "env.waypoint_spacing",
    kind: "float",
    lo: 0,
    hi: 1e6,
    exclusiveLow: true,
    help: "meters between route waypoints",
  },
];

const OPTIONS = {
  "out-dir": { type: "string" },
  overwrite: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...Object.fromEntries(NUMBER_FLAGS.map((f) => [f.flag, { type: "string" }])),
} as const;

/**
 * `sft --help`.
 *
 * @example
 * ```ts
 * console.log(sftHelp());
 * ```
 */
export function sftHelp(): string {
  const lines = [
    "Usage: delta-waypoint sft [flags]",
    "",
    "Behaviour-clone an MLP waypoint planner (Linear -> ReLU -> Linear) from expert rollouts",
    "with noise on the driven plan. Writes model.pt (load it with train --sft-model),",
    "config.json and train_metrics.json to --out-dir, and prints the planner's held-out",
    "closed-loop success, return and ADE/FDE against the expert.",
    "",
    "Flags:",
    `  --out-dir DIR            output folder (default ${DEFAULT_SFT_OUT_DIR})`,
    "  --overwrite              replace the SFT run already in --out-dir",
    "  --quiet                  no progress output",
    "  -h, --help               this help",
  ];
  for (const f of NUMBER_FLAGS) {
    const [section, key] = f.key.split(".");
    const defaults =
      (section === "env" ? DEFAULT_ENV_CONFIG : DEFAULT_SFT_CONFIG) as unknown as Record<
        string,
        unknown
      >;
    lines.push(`  --${f.flag.padEnd(22)} ${f.help} (default ${defaults[key]})`);
  }
  return lines.join("\n");
}

/** Parsed command line of `sft`. */
interface SftArgs {
  run: SftRunConfig;
  overwrite: boolean;
  quiet: boolean;
  help: boolean;
}

function parseSftArgs(args: string[]): SftArgs {
  const { values } = parseFlags("sft", args, OPTIONS);
  const run: SftRunConfig = {
    out_dir: DEFAULT_SFT_OUT_DIR,
    env: { ...DEFAULT_ENV_CONFIG },
    sft: { ...DEFAULT_SFT_CONFIG },
  };
  if (values.help) return { run, overwrite: false, quiet: false, help: true };
  for (const f of NUMBER_FLAGS) {
    const raw = values[f.flag];
    if (typeof raw !== "string") continue;
    const v = parseNumber(`--${f.flag}`, raw, f.kind, f.lo, f.hi, { exclusiveLow: f.exclusiveLow });
    const [section, key] = f.key.split(".");
    (run[section as "env" | "sft"] as unknown as Record<string, number>)[key] = v;
  }
  if (typeof values["out-dir"] === "string") {
    if (values["out-dir"].trim() === "") throw new UserError("--out-dir: must not be empty");
    run.out_dir = values["out-dir"];
  }
  try {
    validateEnvConfig(run.env);
    validateSftConfig(run.sft);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  return {
    run,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    help: false,
  };
}

/**
 * Makes `dir` ready: creates it, and refuses one that already holds an SFT run's files
 * unless `overwrite`, in which case they are removed first (no stale file survives).
 */
function prepareSftDir(dir: string, overwrite: boolean): void {
  try {
    if (!Deno.statSync(dir).isDirectory) {
      throw new UserError(`--out-dir ${dir}: exists and is not a folder`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const existing = SFT_RUN_FILES.map((f) => join(dir, f)).filter((p) => {
    try {
      Deno.statSync(p);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  });
  if (existing.length > 0) {
    if (!overwrite) {
      throw new UserError(
        `--out-dir ${dir} already holds a run (${
          existing[0]
        }); pass --overwrite to replace it, or choose another folder`,
      );
    }
    for (const p of existing) Deno.removeSync(p);
  }
  Deno.mkdirSync(dir, { recursive: true });
}

/** The numbers `train_metrics.json` and the summary line report for one planner. */
function heldoutFields(s: PlannerAdeSummary) {
  return {
    ade: s.ade,
    fde: s.fde,
    success_rate: s.successRate,
    mean_return: s.meanReturn,
    mean_length: s.meanLength,
    off_route_rate: s.offRouteRate,
  };
}

/**
 * Runs `sft` with command-line `args`; returns the process exit code. Bad input throws
 * a one-line {@linkcode UserError} before any file is written.
 *
 * @example
 * ```ts ignore
 * const code = await runSft(["--episodes", "50", "--out-dir", "out/bc_try"]);
 * ```
 */
export async function runSft(args: string[]): Promise<number> {
  const parsed = parseSftArgs(args);
  if (parsed.help) {
    console.log(sftHelp());
    return 0;
  }
  const { run, quiet } = parsed;
  const { env, sft } = run;
  const log = quiet ? () => {} : (line: string) => console.error(line);
  prepareSftDir(run.out_dir, parsed.overwrite);
  const modelPath = join(run.out_dir, "model.pt");
  await writeJson(join(run.out_dir, "config.json"), run);

  const startTime = new Date();
  const t0 = performance.now();
  log(
    `sft: ${sft.episodes} demonstration episodes, hidden ${sft.hidden_dim}, ${sft.epochs} epochs, seed ${sft.seed} -> ${run.out_dir}`,
  );
  const demos = collectDemonstrations(env, {
    episodes: sft.episodes,
    seed: sft.seed,
    noiseStd: sft.noise_std,
  });
  log(
    `demonstrations: ${demos.count} examples from ${demos.episodes} episodes (seeds ${demos.firstSeed}..${
      demos.firstSeed + demos.episodes - 1
    }; noisy expert reached the goal in ${(100 * demos.successRate).toFixed(0)}%)`,
  );
  const planner = new MlpPlanner({
    inDim: demos.obsDim,
    hidden: sft.hidden_dim,
    horizon: env.horizon_steps,
    rng: new Rng(sft.seed),
  });
  const width = String(sft.epochs).length;
  const fit = trainBehaviourCloning(planner, demos, {
    epochs: sft.epochs,
    lr: sft.lr,
    batchSize: sft.batch_size,
    weightDecay: sft.weight_decay,
    seed: sft.seed,
    onEpoch: (epoch, loss) =>
      log(
        `epoch ${String(epoch).padStart(width)}/${sft.epochs}  loss ${loss.toFixed(4)} m^2  ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      ),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const heldout = evaluatePlannerAde(env, planner, { episodes: sft.heldout_episodes });
  const builtin = evaluatePlannerAde(env, new BuiltinSftPlanner(env), {
    episodes: sft.heldout_episodes,
  });
  const lossMean = fit.lossHistory[fit.lossHistory.length - 1];
  const summary = {
    loss_mean: lossMean,
    num_steps: fit.numSteps,
    horizon_steps: env.horizon_steps,
    n_examples: demos.count,
    ...heldoutFields(heldout),
    heldout_episodes: sft.heldout_episodes,
    heldout_first_seed: SFT_HELDOUT_SEED_BASE,
  };
  await saveSftPlanner(modelPath, planner, {
    env,
    extra: { sft_cfg: sft, metrics: summary },
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  await writeJson(join(run.out_dir, "train_metrics.json"), {
    start_time: startTime.toISOString(),
    end_time: new Date().toISOString(),
    config: run,
    format: SFT_CHECKPOINT_FORMAT,
    ...summary,
    loss_history: fit.lossHistory,
    demonstrations: {
      episodes: demos.episodes,
      first_seed: demos.firstSeed,
      examples: demos.count,
      noisy_expert_success_rate: demos.successRate,
    },
    builtin_sft: heldoutFields(builtin),
    train_time_s: trainSeconds,
    wall_time_s: wallSeconds,
  });
  if (sft.heldout_episodes > 0) {
    console.log(
      `held-out (${sft.heldout_episodes} episodes, seeds from 2^30): success ${
        (100 * heldout.successRate).toFixed(1)
      }%  return ${heldout.meanReturn.toFixed(2)}  ADE ${heldout.ade.toFixed(3)} m  FDE ${
        heldout.fde.toFixed(3)
      } m  (built-in SFT: ${(100 * builtin.successRate).toFixed(1)}%, ADE ${
        builtin.ade.toFixed(3)
      } m)`,
    );
  }
  log(
    `sft: done in ${wallSeconds.toFixed(1)} s; final loss ${
      lossMean.toFixed(4)
    }; wrote ${modelPath}`,
  );
  return 0;
}

/**
 * {@linkcode runSft} with bad input turned into one line `error: ...` on stderr and its
 * exit code (2), as `main.ts` does; for running this file on its own.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runSftMain(["--epochs", "ten"])); // prints "error: --epochs: ..." and exits 2
 * ```
 */
export async function runSftMain(args: string[]): Promise<number> {
  try {
    return await runSft(args);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      console.error(`error: ${e.message.split("\n")[0]}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exit(await runSftMain(Deno.args));
}
