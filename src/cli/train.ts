/**
 * `train`: PPO refinement of a frozen SFT planner, with the Python trainer's flags
 * and output layout; with `--seeds LIST`, one such run per seed (a multi-seed job,
 * `sweep/`).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { EpisodeMetric } from "../env/mod.ts";
import { loadResumePoint, resumedBaseConfig, runTraining } from "../run/mod.ts";
import type {
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
  parseSchedule,
  runSeedsJob,
  runSeedTask,
  SCHEDULE_FLAGS,
  trainSeedsFromStdin,
} from "../sweep/mod.ts";
import type { SeedsJob } from "../sweep/mod.ts";
import { parseNumber } from "./_flags.ts";
import { buildRunConfig, parseTrainArgs, trainHelp } from "./_train_flags.ts";
import type { TrainArgs } from "./_train_flags.ts";
import { hasSeedsFlag, parseSeedList, splitOwnFlags, withoutOutDir } from "./_seed_flags.ts";
import { checkResumedNeighbors } from "./_traffic_flags.ts";
import { scenariosFlag } from "./_scenario_flags.ts";

export { buildRunConfig, DEFAULT_OUT_DIR, parseTrainArgs, trainHelp } from "./_train_flags.ts";
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
  if (hasSeedsFlag(args)) return await runTrainSeeds(args);
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    console.log(trainHelp());
    return 0;
  }
  // Everything is read and checked before anything is written.
  const point = parsed.resume === null ? null : await loadResumePoint(parsed.resume);
  const run = buildRunConfig(parsed.values, point ? resumedBaseConfig(point) : undefined);
  if (point) checkResume(point, { run, values: parsed.values });
  return await runTraining(trainingRequest(parsed, { run, point }));
}

// A resumed run keeps what its delta head depends on and has episodes left to train.
function checkResume(point: ResumePoint, opts: { run: RunConfig; values: TrainArgs["values"] }) {
  const { run } = opts;
  checkResumedNeighbors(point, opts);
  run.ppo.resume = point.path;
  // at its last episode, only the closing evaluation is left (a run stopped during it)
  if (point.episode > run.ppo.episodes) {
    throw new UserError(
      `--resume ${point.path}: the checkpoint is at episode ${point.episode} and --episodes is ${run.ppo.episodes}; raise --episodes to train on`,
    );
  }
}

// The single run the parsed command line asks for.
function trainingRequest(
  parsed: TrainArgs,
  opts: { run: RunConfig; point: ResumePoint | null },
): TrainingRequest {
  return {
    ...opts,
    scenarios: scenariosFlag(parsed.values),
    overwrite: parsed.overwrite,
    quiet: parsed.quiet,
    evalWorker: parsed.evalWorker,
    keepCheckpoints: parsed.keepCheckpoints,
    outDirNamed: typeof parsed.values["out-dir"] === "string",
    printHeldout,
  };
}

// `train --seeds LIST` (and the `--task-index`, `--emit` and `--lane` forms): the flags
// checked, then the job run, emitted, one task of it trained, or a lane served.
async function runTrainSeeds(args: string[]): Promise<number> {
  const { own, rest } = splitOwnFlags(args);
  const parsed = parseTrainArgs(rest);
  if (parsed.help) {
    console.log(trainHelp());
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
    const base = trainingRequest(parsed, { run: buildRunConfig(parsed.values), point: null });
    return await trainSeedsFromStdin(base, dir);
  }
  const job = seedsJob(parsed, { own, rest });
  const taskIndex = own.get("task-index");
  if (taskIndex !== undefined) {
    if (own.has("emit")) throw new UserError("--task-index: cannot be combined with --emit");
    const i = parseNumber(taskIndex, {
      flag: "--task-index",
      kind: "int",
      lo: 0,
      hi: job.seeds.length - 1,
    });
    // Exactly the single run of that seed (resumed, or left as it is when finished).
    const base = trainingRequest(parsed, { run: job.run, point: null });
    return await runSeedTask(base, { job, index: i });
  }
  const emit = own.get("emit");
  return emit !== undefined ? await emitSeedsJob(job, emit) : await runSeedsJob(job);
}

// The multi-seed job of the parsed flags: its seeds, folder, jobs and shared configuration.
function seedsJob(
  parsed: TrainArgs,
  opts: { own: Map<string, string>; rest: string[] },
): SeedsJob {
  const list = opts.own.get("seeds")!;
  const seeds = parseSeedList(list);
  const run = buildRunConfig(parsed.values);
  // Not the single run's default folder: that may well hold a run already.
  const outDir = parsed.values["out-dir"] === undefined ? DEFAULT_SEEDS_OUT_DIR : run.out_dir;
  const jobsFlag = opts.own.get("jobs");
  const jobs = jobsFlag === undefined
    ? null
    : parseNumber(jobsFlag, { flag: "--jobs", kind: "int", lo: 1, hi: 1024 });
  const flags = withoutOutDir(opts.rest);
  const scheduling = SCHEDULE_FLAGS.filter((f) => opts.own.has(f));
  if (scheduling.length > 0 && !opts.own.has("emit")) {
    throw new UserError(`--${scheduling[0]}: only for the job files of --emit`);
  }
  return {
    schedule: parseSchedule(opts.own),
    seeds,
    list,
    outDir,
    flags,
    jobs,
    run,
    overwrite: parsed.overwrite,
    quiet: parsed.quiet,
  };
}

// The closing held-out evaluation as a table on stdout: the base planner alone, then
// with the delta, and the env's labelled metrics.
function printHeldout(h: Heldout, metrics: readonly EpisodeMetric[]): void {
  const shown = metrics.filter((m) => m.label && m.mean);
  const row = (name: string, s: HeldoutSummary) =>
    `${name.padEnd(12)} ${s.return_mean.toFixed(2).padStart(11)} ${
      (100 * s.success_rate).toFixed(1).padStart(8)
    }% ${s.steps_mean.toFixed(1).padStart(11)}${
      shown.map((m) => ` ${s[m.mean!].toFixed(3).padStart(8)}`).join("")
    }`;
  console.log(
    `held-out evaluation: ${h.seeds[1]} episodes, seeds ${h.seeds[0]}..${
      h.seeds[0] + h.seeds[1] - 1
    }`,
  );
  console.log(
    `${"policy".padEnd(12)} ${"mean return".padStart(11)} ${"success".padStart(9)} ${
      "mean length".padStart(11)
    }${shown.map((m) => ` ${m.label!.padStart(8)}`).join("")}`,
  );
  console.log(row("sft", h.sft));
  console.log(row("sft + delta", h.refined));
}
