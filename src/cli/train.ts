/**
 * `train`: PPO refinement of a frozen SFT planner, with the Python trainer's flags
 * and output layout; with `--seeds LIST`, one such run per seed (a multi-seed job,
 * `sweep/`).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { loadYamlParserFor } from "../io/mod.ts";
import type { EnvChoice, EpisodeMetric } from "../env/mod.ts";
import {
  checkpointEnvName,
  loggedMetrics,
  metricLabel,
  readTrainerCheckpoint,
  resumedBaseConfig,
  resumePoint,
  rolloutCap,
  runTraining,
} from "../run/mod.ts";
import type {
  BaseName,
  Heldout,
  HeldoutSummary,
  ResumePoint,
  RunConfig,
  TrainingRequest,
} from "../run/mod.ts";
import {
  DEFAULT_SEEDS_OUT_DIR,
  emitSeedsJob,
  LANE_FLAG,
  runSeedsJob,
  trainSeed,
  trainSeedsFromStdin,
} from "../sweep/mod.ts";
import type { SeedsJob } from "../sweep/mod.ts";
import { parseNumber } from "./_flags.ts";
import { buildRunConfig, parseTrainArgs, trainHelp } from "./_train_flags.ts";
import type { TrainArgs } from "./_train_flags.ts";
import {
  hasSeedsFlag,
  needsSeeds,
  parseSeedList,
  splitOwnFlags,
  withoutOutDir,
} from "./_seed_flags.ts";
import { scenariosFlag } from "./_scenario_flags.ts";
import { chooseEnv, peekEnvFlags } from "./_env_choice.ts";
import { resumeCommand } from "./_resume_command.ts";

export { buildRunConfig, parseTrainArgs, trainHelp } from "./_train_flags.ts";
export type { TrainArgs } from "./_train_flags.ts";
export type { RunConfig } from "../run/mod.ts";

/**
 * Runs `train` with command-line `args`; returns the process exit code.
 *
 * @example
 * ```ts ignore
 * const code = await runTrain(["--episodes", "10", "--out-dir", "out/try"]);
 * ```
 */
export async function runTrain(args: string[]): Promise<number> {
  await loadYamlParserFor(args);
  if (hasSeedsFlag(args)) return await runTrainSeeds(args);
  needsSeeds(args);
  // The checkpoint resumed names the env it was trained on: read it first.
  const resumeFlag = peekEnvFlagValue(args, "resume");
  const ckpt = resumeFlag ? await readTrainerCheckpoint(resumeFlag) : null;
  const recorded = ckpt
    ? { name: checkpointEnvName(ckpt), where: `--resume ${ckpt.source}` }
    : undefined;
  const env = await chooseEnv(peekEnvFlags(args), recorded);
  const parsed = parseTrainArgs(args, env.definition);
  if (parsed.help) {
    console.log(trainHelp(env.definition));
    return 0;
  }
  // Everything is read and checked before anything is written.
  const point = ckpt ? resumePoint(ckpt, env.definition) : null;
  const run = buildRunConfig(
    parsed.values,
    env.definition,
    point ? resumedBaseConfig(point) : undefined,
  );
  if (point) checkResume(point, { run, values: parsed.values });
  return await runTraining(trainingRequest(parsed, { run, env, point }));
}

// The value of `--name` in `args` (`--name V` or `--name=V`), before the strict parse.
function peekEnvFlagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

// A resumed run keeps what its delta head depends on (the observation size) and has
// episodes left to train.
function checkResume(point: ResumePoint, opts: { run: RunConfig; values: TrainArgs["values"] }) {
  const { run } = opts;
  const was = point.ppo.encoder_out_dim, now = run.ppo.encoder_out_dim;
  if (was !== now) {
    throw new UserError(
      `--resume ${point.path}: its delta head takes observations of ${was} numbers; the flags and --config make them ${now}, and a resumed run keeps its observation size`,
    );
  }
  run.ppo.resume = point.path;
  if (point.episode >= run.ppo.episodes) {
    throw new UserError(
      `--resume ${point.path}: the checkpoint is at episode ${point.episode} and --episodes is ${run.ppo.episodes}; raise --episodes to train on`,
    );
  }
}

// The single run the parsed command line asks for.
function trainingRequest(
  parsed: TrainArgs,
  opts: { run: RunConfig; env: EnvChoice; point: ResumePoint | null },
): TrainingRequest {
  // --num-envs above the interval that ends every rollout: said, not silently capped
  const capped = parsed.values["num-envs"] !== undefined ? rolloutCap(opts.run) : null;
  return {
    ...opts,
    ...(capped ? { warnings: [capped] } : {}),
    scenarios: scenariosFlag(parsed.values),
    overwrite: parsed.overwrite,
    quiet: parsed.quiet,
    evalWorker: parsed.evalWorker,
    outDirNamed: typeof parsed.values["out-dir"] === "string",
    printHeldout,
    resumeCommand: resumeCommand(opts.env, parsed.values),
  };
}

// `train --seeds LIST` (and the `--task-index`, `--emit` and `--lane` forms): the flags
// checked, then the job run, emitted, one task of it trained, or a lane served.
async function runTrainSeeds(args: string[]): Promise<number> {
  const { own, rest } = splitOwnFlags(args);
  const env = await chooseEnv(peekEnvFlags(rest));
  const parsed = parseTrainArgs(rest, env.definition);
  if (parsed.help) {
    console.log(trainHelp(env.definition));
    return 0;
  }
  if (parsed.resume !== null) {
    throw new UserError(
      "--seeds: cannot be combined with --resume (resume one seed: train --resume <out-dir>/seed_N/checkpoints/checkpoint_K.pt)",
    );
  }
  if (parsed.values.seed !== undefined) {
    throw new UserError("--seeds: cannot be combined with --seed (the list gives each run's seed)");
  }
  if (own.has("lane")) {
    const dir = parsed.values["out-dir"];
    if (typeof dir !== "string" || own.size > 1 || Deno.stdin.isTerminal()) {
      throw new UserError(`${LANE_FLAG}: only for the processes train --seeds starts`);
    }
    const run = buildRunConfig(parsed.values, env.definition);
    const base = trainingRequest(parsed, { run, env, point: null });
    return await trainSeedsFromStdin(base, dir);
  }
  const job = seedsJob(parsed, { own, rest, env });
  const taskIndex = own.get("task-index");
  if (taskIndex !== undefined) {
    if (own.has("emit")) throw new UserError("--task-index: cannot be combined with --emit");
    const i = parseNumber(taskIndex, {
      flag: "--task-index",
      kind: "int",
      lo: 0,
      hi: job.seeds.length - 1,
    });
    // Exactly the single run of that seed.
    const base = trainingRequest(parsed, { run: job.run, env, point: null });
    return await trainSeed(base, { outDir: job.outDir, seed: job.seeds[i], quiet: job.quiet });
  }
  const emit = own.get("emit");
  return emit !== undefined ? await emitSeedsJob(job, emit) : await runSeedsJob(job);
}

// The multi-seed job of the parsed flags: its seeds, folder, jobs and shared configuration.
function seedsJob(
  parsed: TrainArgs,
  opts: { own: Map<string, string>; rest: string[]; env: EnvChoice },
): SeedsJob {
  const list = opts.own.get("seeds")!;
  const seeds = parseSeedList(list);
  const run = buildRunConfig(parsed.values, opts.env.definition);
  // Not the single run's default folder: that may well hold a run already.
  const outDir = parsed.values["out-dir"] === undefined ? DEFAULT_SEEDS_OUT_DIR : run.out_dir;
  const jobsFlag = opts.own.get("jobs");
  const jobs = jobsFlag === undefined
    ? null
    : parseNumber(jobsFlag, { flag: "--jobs", kind: "int", lo: 1, hi: 1024 });
  const flags = withoutOutDir(opts.rest);
  return {
    seeds,
    list,
    outDir,
    flags,
    jobs,
    run,
    env: opts.env,
    overwrite: parsed.overwrite,
    quiet: parsed.quiet,
  };
}

// The closing held-out evaluation as a table on stdout: the base planner alone, then
// with the delta, and the env's logged metrics.
// An env without a goal has no success column.
function printHeldout(
  h: Heldout,
  opts: { metrics: readonly EpisodeMetric[]; base: BaseName; hasSuccess: boolean },
): void {
  const { metrics, base, hasSuccess } = opts;
  const shown = loggedMetrics(metrics).map((m) => ({ key: m.mean!, label: metricLabel(m) }));
  const width = (label: string) => Math.max(8, label.length);
  const success = (s: HeldoutSummary) =>
    hasSuccess ? ` ${(100 * s.success_rate).toFixed(1).padStart(8)}%` : "";
  const row = (name: string, s: HeldoutSummary) =>
    `${name.padEnd(12)} ${s.return_mean.toFixed(2).padStart(11)}${success(s)} ${
      s.steps_mean.toFixed(1).padStart(11)
    }${shown.map((m) => ` ${s[m.key].toFixed(3).padStart(width(m.label))}`).join("")}`;
  console.log(
    `held-out evaluation: ${h.seeds[1]} episodes, seeds ${h.seeds[0]}..${
      h.seeds[0] + h.seeds[1] - 1
    }`,
  );
  console.log(
    `${"policy".padEnd(12)} ${"mean return".padStart(11)}${
      hasSuccess ? ` ${"success".padStart(9)}` : ""
    } ${"mean length".padStart(11)}${
      shown.map((m) => ` ${m.label.padStart(width(m.label))}`).join("")
    }`,
  );
  const [alone, refined] = base === "sft" ? ["sft", "sft + delta"] : ["base policy", "policy"];
  console.log(row(alone, h.sft));
  console.log(row(refined, h.refined));
}
