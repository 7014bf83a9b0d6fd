/**
 * `train`: PPO refinement of a frozen SFT planner, with the Python trainer's flags
 * and output layout.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { UserError } from "../math/errors.ts";
import { finiteMean } from "../math/stats.ts";
import { DEFAULT_ENV_CONFIG, HELDOUT_SEED_BASE, validateEnvConfig } from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { BuiltinSftPlanner, evaluatePolicy } from "../sft/mod.ts";
import type { EvalSummary, WaypointPlanner } from "../sft/mod.ts";
import {
  DEFAULT_PPO_CONFIG,
  sftBaseline,
  Trainer,
  trainLoop,
  validatePpoConfig,
} from "../rl/mod.ts";
import type { BestRecord, MetricsEntry, PpoConfig, TrainerProgress } from "../rl/mod.ts";
import { prepareResumeDir, prepareRunDir, writeJson } from "../io/run_dir.ts";
import {
  checkpointEnvConfig,
  loadAdamState,
  loadStateDict,
  parseTrainerCheckpoint,
  saveTrainerCheckpoint,
} from "../io/checkpoint.ts";
import type { LoadedCheckpoint } from "../io/checkpoint.ts";
import { readPt } from "../io/torch_pt.ts";
import { loadSftPlanner } from "../io/sft_checkpoint.ts";
import {
  applyConfigFile,
  applyNumberFlags,
  flagHelp,
  flagOptions,
  parseFlags,
  RUN_OPTIONS,
} from "./_flags.ts";
import type { NumberFlag } from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { hasSeedsFlag, runSeeds, SEEDS_HELP } from "./_seeds.ts";

/** The whole configuration of a run, as written to `config.json`. */
export interface RunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** SFT planner checkpoint (`--sft-model`); null: the built-in planner. */
  sft_model: string | null;
  /** Environment the policy is trained and evaluated in. */
  env: EnvConfig;
  /** PPO hyperparameters; `encoder_out_dim` and `horizon_steps` follow `env`. */
  ppo: PpoConfig;
}

/** Where the Python trainer wrote by default. */
export const DEFAULT_OUT_DIR = "out/rl_delta_waypoint_v0/run_001";

const PPO_FLAGS: NumberFlag[] = [
  { flag: "episodes", key: "episodes", kind: "int", lo: 1, hi: 1e9, help: "training episodes" },
  {
    flag: "lr",
    key: "lr",
    kind: "float",
    lo: 0,
    hi: 1,
    exclusiveLow: true,
    help: "Adam learning rate",
  },
  {
    flag: "seed",
    key: "seed",
    kind: "int",
    lo: 0,
    hi: 2 ** 32 - 1,
    help: "the one seed of the run",
  },
  { flag: "num-envs", key: "num_envs", kind: "int", lo: 1, hi: 4096, help: "envs per rollout" },
  {
    flag: "eval-interval",
    key: "eval_interval",
    kind: "int",
    lo: 1,
    hi: 1e9,
    help: "episodes between metrics.json entries",
  },
  {
    flag: "save-interval",
    key: "save_interval",
    kind: "int",
    lo: 1,
    hi: 1e9,
    help: "episodes between checkpoints",
  },
  {
    flag: "update-epochs",
    key: "update_epochs",
    kind: "int",
    lo: 1,
    hi: 1000,
    help: "PPO epochs per update",
  },
  {
    flag: "hidden-dim",
    key: "hidden_dim",
    kind: "int",
    lo: 1,
    hi: 4096,
    help: "hidden width of both heads",
  },
  {
    flag: "batch-size",
    key: "batch_size",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "PPO minibatch size",
  },
  { flag: "gamma", key: "gamma", kind: "float", lo: 0, hi: 1, help: "discount" },
  { flag: "lam", key: "lam", kind: "float", lo: 0, hi: 1, help: "GAE lambda" },
  { flag: "clip-ratio", key: "clip_ratio", kind: "float", lo: 0, hi: 1, help: "PPO clip epsilon" },
  {
    flag: "target-kl",
    key: "target_kl",
    kind: "float",
    lo: 0,
    hi: 1e9,
    help: "KL early-stop target",
  },
  {
    flag: "weight-decay",
    key: "weight_decay",
    kind: "float",
    lo: 0,
    hi: 1,
    help: "Adam L2 weight decay",
  },
  {
    flag: "delta-clip",
    key: "delta_clip",
    kind: "float",
    lo: 0,
    hi: 1e6,
    help: "bound on |delta|, meters",
  },
  {
    flag: "heldout-episodes",
    key: "heldout_episodes",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "held-out episodes evaluated at the end",
  },
  {
    flag: "eval-episodes",
    key: "eval_episodes",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "held-out episodes evaluated every eval interval",
  },
];

const OPTIONS = {
  ...RUN_OPTIONS,
  "sft-model": { type: "string" },
  resume: { type: "string" },
  device: { type: "string" },
  config: { type: "string" },
  ...flagOptions(PPO_FLAGS),
  ...ENV_FLAG_OPTIONS,
} as const;

/**
 * `train --help`.
 *
 * @example
 * ```ts
 * console.log(trainHelp());
 * ```
 */
export function trainHelp(): string {
  const lines = [
    "Usage: delta-waypoint train [flags]",
    "",
    "Refine the frozen SFT waypoint planner with a PPO-trained residual delta head.",
    "Writes config.json, metrics.json, train_metrics.json, final.pt and checkpoints/ to --out-dir.",
    "",
    "Flags:",
    `  --out-dir DIR            run folder (default ${DEFAULT_OUT_DIR})`,
    "  --sft-model PATH         SFT planner checkpoint (default: the built-in planner)",
    "  --resume PATH            continue from a checkpoint",
    "  --device cpu             only cpu",
    '  --config FILE            JSON {"env": {...}, "ppo": {...}} applied before the flags',
    "  --overwrite              replace the run already in --out-dir",
    "  --quiet                  no progress output",
    "  -h, --help               this help",
  ];
  lines.push(...flagHelp(PPO_FLAGS, DEFAULT_PPO_CONFIG), ...ENV_FLAG_HELP, ...SEEDS_HELP);
  return lines.join("\n");
}

/** `train`'s command line, parsed but not yet turned into a configuration. */
export interface TrainArgs {
  /** Every flag given, by name without the dashes, as parseArgs returns it. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** `--overwrite`: replace the run already in the out dir. */
  overwrite: boolean;
  /** `--quiet`: no progress output. */
  quiet: boolean;
  /** `--resume` checkpoint path, or null. */
  resume: string | null;
  /** `-h` / `--help`. */
  help: boolean;
}

/**
 * Parses `train`'s flags (unknown flags are errors).
 *
 * @example
 * ```ts
 * const args = parseTrainArgs(["--episodes", "10", "--quiet"]);
 * args.quiet; // true
 * ```
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values } = parseFlags("train", args, OPTIONS);
  const resume = typeof values.resume === "string" ? values.resume : null;
  if (resume !== null && resume.trim() === "") throw new UserError("--resume: must not be empty");
  return {
    values,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    resume,
    help: values.help === true,
  };
}

/**
 * The run configuration: `base` (defaults, or a resumed checkpoint's), then
 * `--config FILE`, then the flags; checked.
 *
 * @example
 * ```ts ignore
 * const run = buildRunConfig(parseTrainArgs(["--episodes", "10"]).values);
 * ```
 */
export function buildRunConfig(
  values: TrainArgs["values"],
  base: RunConfig = defaultRunConfig(),
): RunConfig {
  const run: RunConfig = { ...base, env: { ...base.env }, ppo: { ...base.ppo } };
  if (typeof values.config === "string") {
    // a run's config.json works too; its resume path is not carried over
    applyConfigFile(values.config, { env: run.env, ppo: run.ppo }, {
      ignore: ["out_dir", "sft_model"],
      skipKeys: ["resume"],
    });
  }
  applyNumberFlags(run.ppo, { values, flags: PPO_FLAGS });
  applyEnvFlags(run.env, values);
  if (typeof values.device === "string") {
    if (values.device !== "cpu") {
      throw new UserError(`--device: only 'cpu' is supported, got '${values.device}'`);
    }
    run.ppo.device = "cpu";
  }
  if (typeof values["out-dir"] === "string") {
    if (values["out-dir"].trim() === "") throw new UserError("--out-dir: must not be empty");
    run.out_dir = values["out-dir"];
  }
  if (typeof values["sft-model"] === "string") {
    if (values["sft-model"].trim() === "") throw new UserError("--sft-model: must not be empty");
    run.sft_model = values["sft-model"];
  }
  run.ppo.encoder_out_dim = 1 + 2 * run.env.horizon_steps;
  run.ppo.horizon_steps = run.env.horizon_steps;
  checkConfig(run);
  return run;
}

function defaultRunConfig(): RunConfig {
  return {
    out_dir: DEFAULT_OUT_DIR,
    sft_model: null,
    env: { ...DEFAULT_ENV_CONFIG },
    ppo: { ...DEFAULT_PPO_CONFIG },
  };
}

function checkConfig(run: RunConfig): void {
  try {
    validateEnvConfig(run.env);
    validatePpoConfig(run.ppo);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
}

/** A checkpoint to continue from, and where it puts the run. */
interface ResumePoint {
  path: string;
  ckpt: LoadedCheckpoint;
  episode: number;
  /** The run folder the checkpoint belongs to. */
  runDir: string;
}

async function loadResumePoint(path: string): Promise<ResumePoint> {
  const ckpt = parseTrainerCheckpoint(await readPt(path), path);
  let episode = ckpt.episode;
  if (episode === null) {
    // The Python trainer stored no episode; its file names carry it.
    const m = /checkpoint_(\d+)\.pt$/.exec(basename(path));
    if (!m) {
      throw new UserError(
        `--resume ${path}: the file stores no episode and its name is not checkpoint_{N}.pt`,
      );
    }
    episode = Number(m[1]);
  }
  const dir = dirname(path);
  const runDir = basename(dir) === "checkpoints" ? dirname(dir) : dir;
  return { path, ckpt, episode, runDir };
}

// The resumed run's base configuration: defaults, overlaid with what the checkpoint
// recorded (ppo `cfg`, our `env_cfg`, the SFT planner it refined).
function resumedBaseConfig(point: ResumePoint): RunConfig {
  const run = defaultRunConfig();
  run.out_dir = point.runDir;
  const ppo = run.ppo as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(point.ckpt.cfg ?? {})) {
    if (k in ppo && (typeof v === typeof ppo[k] || ppo[k] === null)) ppo[k] = v;
  }
  run.env = checkpointEnvConfig(point.ckpt);
  const sft = point.ckpt.extra.sft_model;
  run.sft_model = typeof sft === "string" ? sft : null;
  return run;
}

// Puts weights, optimiser state and progress of the checkpoint into `trainer`.
function restoreTrainer(trainer: Trainer, point: ResumePoint, warn: (line: string) => void): void {
  const { ckpt, path, episode } = point;
  loadStateDict(trainer.model.delta, ckpt.deltaHead, { where: `${path}: delta_head` });
  loadStateDict(trainer.model.value, ckpt.valueHead, { where: `${path}: value_head` });
  if (ckpt.optimizer) {
    loadAdamState(trainer.optimizer, ckpt.optimizer, {
      sets: [trainer.model.delta, trainer.model.value],
      source: path,
    });
  } else {
    warn(`warning: ${path} holds no optimizer state; Adam starts afresh`);
  }
  const x = ckpt.extra;
  const progress = x.rng as TrainerProgress["rng"] | undefined;
  if (progress && Array.isArray(progress.policy) && Array.isArray(progress.shuffle)) {
    const list = (v: unknown) =>
      Array.isArray(v) ? v.map((e) => (typeof e === "number" ? e : NaN)) : [];
    trainer.restoreProgress({
      episode,
      rewards: list(x.rewards),
      lengths: list(x.lengths),
      successes: list(x.successes),
      metrics: Array.isArray(x.metrics) ? x.metrics as MetricsEntry[] : [],
      rng: progress,
      best: isBest(x.best) ? x.best : null,
    });
  } else {
    warn(
      `warning: ${path} holds no RNG state (written by the Python trainer?); ` +
        `episode ${episode} continues with fresh sampling and shuffling streams from seed ${trainer.ppo.seed}`,
    );
    trainer.episode = episode;
    const unknown = new Array<number>(episode).fill(NaN);
    trainer.rewards.push(...unknown);
    trainer.lengths.push(...unknown);
    trainer.successes.push(...unknown);
  }
}

function isBest(v: unknown): v is BestRecord {
  const b = v as BestRecord | null;
  return typeof b === "object" && b !== null && typeof b.episode === "number" &&
    typeof b.eval_return === "number" && typeof b.ade === "number";
}

async function makePlanner(run: RunConfig): Promise<WaypointPlanner> {
  if (run.sft_model === null) return new BuiltinSftPlanner(run.env);
  return await loadSftPlanner(run.sft_model, {
    horizon: run.env.horizon_steps,
    obsDim: 1 + 2 * run.env.horizon_steps,
  });
}

/**
 * Runs `train` with command-line `args`; returns the process exit code.
 *
 * @example
 * ```ts ignore
 * const code = await runTrain(["--episodes", "10", "--out-dir", "out/try"]);
 * ```
 */
export async function runTrain(args: string[]): Promise<number> {
  if (hasSeedsFlag(args)) return await runSeeds(args);
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    console.log(trainHelp());
    return 0;
  }
  const { quiet } = parsed;
  const log = quiet ? () => {} : (line: string) => console.error(line);
  const point = parsed.resume === null ? null : await loadResumePoint(parsed.resume);
  const run = buildRunConfig(parsed.values, point ? resumedBaseConfig(point) : undefined);
  if (point) {
    run.ppo.resume = point.path;
    if (point.episode >= run.ppo.episodes) {
      throw new UserError(
        `--resume ${point.path}: the checkpoint is at episode ${point.episode} and --episodes is ${run.ppo.episodes}; raise --episodes to train on`,
      );
    }
  }
  const planner = await makePlanner(run);
  const trainer = new Trainer({ env: run.env, ppo: run.ppo, planner });
  if (point) restoreTrainer(trainer, point, (line) => console.error(line));
  const paths = point
    ? prepareResumeDir(run.out_dir, {
      episode: point.episode,
      overwrite: parsed.overwrite,
      sameRun: resolve(run.out_dir) === resolve(point.runDir),
      keep: resolve(point.path),
    })
    : prepareRunDir(run.out_dir, { overwrite: parsed.overwrite });
  await writeJson(paths.config, run);

  const startTime = new Date();
  const live = !quiet && Deno.stderr.isTerminal();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const t0 = performance.now();
    const startEpisode = trainer.episode;
    const extra = { sft_model: run.sft_model };
    log(
      `train: episodes ${trainer.episode}..${run.ppo.episodes}, ${run.ppo.num_envs} envs, seed ${run.ppo.seed} -> ${run.out_dir}`,
    );
    const sft = sftBaseline(trainer);
    const { stopped } = await trainLoop(trainer, {
      sft,
      onMetrics: async (t, entry) => {
        await writeJson(paths.metrics, t.metrics);
        if (!live) {
          log(summaryLine(t, entry.mean_reward, entry.success_rate, t0, startEpisode, entry));
        }
      },
      onBest: (t) => saveTrainerCheckpoint(paths.best, t, extra),
      onCheckpoint: (t, ep) => saveTrainerCheckpoint(paths.checkpoint(ep), t, extra),
      onIteration: (t) => {
        if (!live) return;
        const n = run.ppo.eval_interval;
        const line = summaryLine(
          t,
          finiteMean(t.rewards.slice(-n)),
          finiteMean(t.successes.slice(-n)),
          t0,
          startEpisode,
        );
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}\x1b[K`));
      },
      shouldStop: () => interrupted,
    });
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    const wallSeconds = (performance.now() - t0) / 1000;
    const summaryBase = { run, trainer, startTime, wallSeconds, point, sft };
    if (stopped) {
      const path = paths.checkpoint(trainer.episode);
      await saveTrainerCheckpoint(path, trainer, extra);
      await writeJson(paths.metrics, trainer.metrics);
      await writeJson(
        paths.trainMetrics,
        trainSummary({ ...summaryBase, heldout: null, interrupted: true }),
      );
      console.error(`train: interrupted at episode ${trainer.episode}; saved ${path}`);
      return 130;
    }
    await saveTrainerCheckpoint(paths.final, trainer, extra);
    await writeJson(paths.metrics, trainer.metrics);
    const heldout = heldoutEvaluation(run, trainer, planner);
    await writeJson(
      paths.trainMetrics,
      trainSummary({ ...summaryBase, heldout, interrupted: false }),
    );
    printHeldout(heldout);
    log(`train: done in ${wallSeconds.toFixed(1)} s; wrote ${paths.dir}`);
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/** `heldout` of `train_metrics.json`: SFT alone next to SFT + delta on unseen seeds. */
interface Heldout {
  seeds: [number, number];
  sft: HeldoutSummary;
  refined: HeldoutSummary;
}

interface HeldoutSummary {
  mean_return: number;
  success_rate: number;
  mean_length: number;
  ade: number;
  fde: number;
  offroad_rate: number;
}

function heldoutEvaluation(run: RunConfig, trainer: Trainer, planner: WaypointPlanner): Heldout {
  const count = run.ppo.heldout_episodes;
  const common = {
    env: run.env,
    planner,
    deltaClip: run.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count,
  };
  const pick = (s: EvalSummary): HeldoutSummary => ({
    mean_return: s.return_mean,
    success_rate: s.success_rate,
    mean_length: s.steps_mean,
    ade: s.ade_mean,
    fde: s.fde_mean,
    offroad_rate: s.offroad_rate,
  });
  return {
    seeds: [HELDOUT_SEED_BASE, count],
    sft: pick(evaluatePolicy({ ...common, model: null }).summary),
    refined: pick(evaluatePolicy({ ...common, model: trainer.model }).summary),
  };
}

function printHeldout(h: Heldout): void {
  const row = (name: string, s: HeldoutSummary) =>
    `${name.padEnd(12)} ${s.mean_return.toFixed(2).padStart(11)} ${
      (100 * s.success_rate).toFixed(1).padStart(8)
    }% ${s.mean_length.toFixed(1).padStart(11)} ${s.ade.toFixed(3).padStart(8)} ${
      s.fde.toFixed(3).padStart(8)
    }`;
  console.log(
    `held-out evaluation: ${h.seeds[1]} episodes, seeds ${h.seeds[0]}..${
      h.seeds[0] + h.seeds[1] - 1
    }`,
  );
  console.log(
    `${"policy".padEnd(12)} ${"mean return".padStart(11)} ${"success".padStart(9)} ${
      "mean length".padStart(11)
    } ${"ADE m".padStart(8)} ${"FDE m".padStart(8)}`,
  );
  console.log(row("sft", h.sft));
  console.log(row("sft + delta", h.refined));
}

function trainSummary(opts: {
  run: RunConfig;
  trainer: Trainer;
  startTime: Date;
  wallSeconds: number;
  point: ResumePoint | null;
  sft: EvalSummary;
  heldout: Heldout | null;
  interrupted: boolean;
}): Record<string, unknown> {
  const { run, trainer } = opts;
  const last100 = (xs: number[]) => finiteMean(xs.slice(-100));
  return {
    start_time: opts.startTime.toISOString(),
    end_time: new Date().toISOString(),
    config: run,
    final_metrics: {
      mean_reward_100ep: last100(trainer.rewards),
      mean_length_100ep: last100(trainer.lengths),
      total_episodes: trainer.episode,
      success_rate_100ep: last100(trainer.successes),
    },
    rewards: trainer.rewards,
    lengths: trainer.lengths,
    successes: trainer.successes,
    ...(opts.heldout ? { heldout: opts.heldout } : {}),
    sft_eval: {
      seeds: [HELDOUT_SEED_BASE, run.ppo.eval_episodes],
      return: opts.sft.return_mean,
      success_rate: opts.sft.success_rate,
      ade: opts.sft.ade_mean,
      fde: opts.sft.fde_mean,
    },
    best: trainer.best,
    ...(opts.point
      ? { resumed_from: opts.point.path, resumed_at_episode: opts.point.episode }
      : {}),
    interrupted: opts.interrupted,
    wall_time_s: opts.wallSeconds,
    env_steps: trainer.envStepsThisProcess,
    env_steps_per_second: trainer.envStepsThisProcess / Math.max(opts.wallSeconds, 1e-9),
  };
}

function summaryLine(
  trainer: Trainer,
  meanReward: number,
  successRate: number,
  t0: number,
  startEpisode: number,
  entry?: MetricsEntry,
): string {
  const elapsed = (performance.now() - t0) / 1000;
  const sps = trainer.envStepsThisProcess / Math.max(elapsed, 1e-9);
  const total = trainer.ppo.episodes;
  const perEpisode = elapsed / Math.max(1, trainer.episode - startEpisode);
  const eta = Math.max(0, (total - trainer.episode) * perEpisode);
  const kl = entry?.update.kl ?? trainer.metrics.at(-1)?.update.kl ?? 0;
  const evalPart = entry && typeof entry.eval_return === "number"
    ? `  eval ${(entry.eval_return as number).toFixed(2)}`
    : "";
  return `episode ${trainer.episode}/${total}  reward ${meanReward.toFixed(2)}  success ${
    (100 * successRate).toFixed(0)
  }%${evalPart}  kl ${kl.toFixed(4)}  ${Math.round(sps)} steps/s  eta ${eta.toFixed(0)} s`;
}
