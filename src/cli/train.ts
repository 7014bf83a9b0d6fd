/**
 * `train`: PPO refinement of a frozen SFT planner, with the Python trainer's flags
 * and output layout.
 *
 * @module
 */

import { UserError } from "../math/errors.ts";
import { DEFAULT_ENV_CONFIG, validateEnvConfig } from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { BuiltinSftPlanner } from "../sft/mod.ts";
import type { WaypointPlanner } from "../sft/mod.ts";
import {
  DEFAULT_PPO_CONFIG,
  evaluatePolicy,
  HELDOUT_SEED_BASE,
  Trainer,
  validatePpoConfig,
} from "../rl/mod.ts";
import type { EvalSummary, IterationResult, PpoConfig } from "../rl/mod.ts";
import { prepareRunDir, writeJson } from "../io/run_dir.ts";
import type { RunPaths } from "../io/run_dir.ts";
import { saveTrainerCheckpoint } from "../io/checkpoint.ts";
import { parseFlags, parseNumber } from "./_flags.ts";
import type { NumberKind } from "./_flags.ts";

/** The whole configuration of a run, as written to `config.json`. */
export interface RunConfig {
  out_dir: string;
  sft_model: string | null;
  env: EnvConfig;
  ppo: PpoConfig;
}

/** Where the Python trainer wrote by default. */
export const DEFAULT_OUT_DIR = "out/rl_delta_waypoint_v0/run_001";

interface NumberFlag {
  flag: string;
  /** Config keys it sets: "env.x" / "ppo.x". */
  keys: string[];
  kind: NumberKind;
  lo: number;
  hi: number;
  exclusiveLow?: boolean;
  help: string;
}

const NUMBER_FLAGS: NumberFlag[] = [
  {
    flag: "episodes",
    keys: ["ppo.episodes"],
    kind: "int",
    lo: 1,
    hi: 1e9,
    help: "training episodes",
  },
  {
    flag: "lr",
    keys: ["ppo.lr"],
    kind: "float",
    lo: 0,
    hi: 1,
    exclusiveLow: true,
    help: "Adam learning rate",
  },
  {
    flag: "seed",
    keys: ["ppo.seed"],
    kind: "int",
    lo: 0,
    hi: 2 ** 32 - 1,
    help: "the one seed of the run",
  },
  {
    flag: "horizon-steps",
    keys: ["env.horizon_steps", "ppo.horizon_steps"],
    kind: "int",
    lo: 1,
    hi: 1000,
    help: "waypoints per plan (H)",
  },
  {
    flag: "max-episode-steps",
    keys: ["env.max_episode_steps"],
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "steps before an episode is truncated",
  },
  {
    flag: "num-envs",
    keys: ["ppo.num_envs"],
    kind: "int",
    lo: 1,
    hi: 4096,
    help: "envs per rollout",
  },
  {
    flag: "eval-interval",
    keys: ["ppo.eval_interval"],
    kind: "int",
    lo: 1,
    hi: 1e9,
    help: "episodes between metrics.json entries",
  },
  {
    flag: "save-interval",
    keys: ["ppo.save_interval"],
    kind: "int",
    lo: 1,
    hi: 1e9,
    help: "episodes between checkpoints",
  },
  {
    flag: "update-epochs",
    keys: ["ppo.update_epochs"],
    kind: "int",
    lo: 1,
    hi: 1000,
    help: "PPO epochs per update",
  },
  {
    flag: "hidden-dim",
    keys: ["ppo.hidden_dim"],
    kind: "int",
    lo: 1,
    hi: 4096,
    help: "hidden width of both heads",
  },
  {
    flag: "batch-size",
    keys: ["ppo.batch_size"],
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "PPO minibatch size",
  },
  { flag: "gamma", keys: ["ppo.gamma"], kind: "float", lo: 0, hi: 1, help: "discount" },
  { flag: "lam", keys: ["ppo.lam"], kind: "float", lo: 0, hi: 1, help: "GAE lambda" },
  {
    flag: "clip-ratio",
    keys: ["ppo.clip_ratio"],
    kind: "float",
    lo: 0,
    hi: 1,
    help: "PPO clip epsilon",
  },
  {
    flag: "target-kl",
    keys: ["ppo.target_kl"],
    kind: "float",
    lo: 0,
    hi: 1e9,
    help: "KL early-stop target",
  },
  {
    flag: "weight-decay",
    keys: ["ppo.weight_decay"],
    kind: "float",
    lo: 0,
    hi: 1,
    help: "Adam L2 weight decay",
  },
  {
    flag: "delta-clip",
    keys: ["ppo.delta_clip"],
    kind: "float",
    lo: 0,
    hi: 1e6,
    help: "bound on |delta|, meters",
  },
  {
    flag: "heldout-episodes",
    keys: ["ppo.heldout_episodes"],
    kind: "int",
    lo: 0,
    hi: 1e6,
    help: "held-out episodes evaluated at the end",
  },
  {
    flag: "world-size",
    keys: ["env.world_size"],
    kind: "float",
    lo: 1,
    hi: 1e6,
    help: "side of the square world, m",
  },
  {
    flag: "waypoint-spacing",
    keys: ["env.waypoint_spacing"],
    kind: "float",
    lo: 0,
    hi: 1e6,
    exclusiveLow: true,
    help: "meters between route waypoints",
  },
];

const OPTIONS = {
  "out-dir": { type: "string" },
  "sft-model": { type: "string" },
  resume: { type: "string" },
  device: { type: "string" },
  config: { type: "string" },
  overwrite: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...Object.fromEntries(NUMBER_FLAGS.map((f) => [f.flag, { type: "string" }])),
} as const;

/** `train --help`. */
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
  for (const f of NUMBER_FLAGS) {
    const [section, key] = f.keys[0].split(".");
    const defaults =
      (section === "env" ? DEFAULT_ENV_CONFIG : DEFAULT_PPO_CONFIG) as unknown as Record<
        string,
        unknown
      >;
    lines.push(`  --${f.flag.padEnd(22)} ${f.help} (default ${defaults[key]})`);
  }
  return lines.join("\n");
}

/** Parses `train`'s flags into a checked run configuration. */
export function parseTrainArgs(
  args: string[],
): { run: RunConfig; overwrite: boolean; quiet: boolean; resume: string | null; help: boolean } {
  const { values } = parseFlags("train", args, OPTIONS);
  if (values.help) {
    return {
      run: defaultRunConfig(),
      overwrite: false,
      quiet: false,
      resume: null,
      help: true,
    };
  }
  const run = defaultRunConfig();
  if (typeof values.config === "string") applyConfigFile(run, values.config);
  for (const f of NUMBER_FLAGS) {
    const raw = values[f.flag];
    if (typeof raw !== "string") continue;
    const v = parseNumber(`--${f.flag}`, raw, f.kind, f.lo, f.hi, { exclusiveLow: f.exclusiveLow });
    for (const key of f.keys) setKey(run, key, v);
  }
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
  const resume = typeof values.resume === "string" ? values.resume : null;
  if (typeof values["sft-model"] === "string") run.sft_model = values["sft-model"];
  if (run.sft_model !== null) {
    throw new UserError("--sft-model: not supported yet (only the built-in SFT planner)");
  }
  if (resume !== null) throw new UserError("--resume: not supported yet");
  run.ppo.encoder_out_dim = 1 + 2 * run.env.horizon_steps;
  run.ppo.horizon_steps = run.env.horizon_steps;
  checkConfig(run);
  return {
    run,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    resume,
    help: false,
  };
}

function defaultRunConfig(): RunConfig {
  return {
    out_dir: DEFAULT_OUT_DIR,
    sft_model: null,
    env: { ...DEFAULT_ENV_CONFIG },
    ppo: { ...DEFAULT_PPO_CONFIG },
  };
}

function setKey(run: RunConfig, key: string, value: number): void {
  const [section, name] = key.split(".");
  (run[section as "env" | "ppo"] as unknown as Record<string, unknown>)[name] = value;
}

function applyConfigFile(run: RunConfig, path: string): void {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new UserError(`--config ${path}: cannot read (${e instanceof Error ? e.name : e})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--config ${path}: not valid JSON (${e instanceof Error ? e.message : e})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`--config ${path}: expected an object {"env": {...}, "ppo": {...}}`);
  }
  for (const [section, body] of Object.entries(parsed)) {
    if (section === "out_dir" || section === "sft_model") continue; // config.json of a run
    if (section !== "env" && section !== "ppo") {
      throw new UserError(`--config ${path}: unknown section '${section}' (expected env, ppo)`);
    }
    if (typeof body !== "object" || body === null) {
      throw new UserError(`--config ${path}: '${section}' must be an object`);
    }
    const target = run[section] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(body)) {
      if (!(key in target)) {
        throw new UserError(`--config ${path}: unknown key '${section}.${key}'`);
      }
      if (key === "resume") continue;
      if (typeof value !== typeof target[key] && target[key] !== null) {
        throw new UserError(
          `--config ${path}: '${section}.${key}' must be a ${typeof target[key]}, got ${
            JSON.stringify(value)
          }`,
        );
      }
      target[key] = value;
    }
  }
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

/** Options for {@linkcode runTrain} beyond the flags. */
export interface TrainIo {
  /** Progress and logs (default: stderr). */
  log?: (line: string) => void;
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
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    console.log(trainHelp());
    return 0;
  }
  const { run, quiet } = parsed;
  const paths = prepareRunDir(run.out_dir, { overwrite: parsed.overwrite });
  const log = quiet ? () => {} : (line: string) => console.error(line);
  const live = !quiet && Deno.stderr.isTerminal();
  const planner: WaypointPlanner = new BuiltinSftPlanner(run.env);
  await writeJson(paths.config, run);

  const startTime = new Date();
  const trainer = new Trainer({ env: run.env, ppo: run.ppo, planner });
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const t0 = performance.now();
    const startEpisode = trainer.episode;
    let lastEntryEpisode = trainer.episode;
    let last: IterationResult | null = null;
    log(
      `train: ${run.ppo.episodes} episodes, ${run.ppo.num_envs} envs, seed ${run.ppo.seed} -> ${run.out_dir}`,
    );
    while (trainer.episode < run.ppo.episodes) {
      last = trainer.iterate(trainer.nextRolloutSize());
      const ep = trainer.episode;
      if (ep % run.ppo.eval_interval === 0) {
        const entry = trainer.metricsEntry(last, lastEntryEpisode);
        trainer.metrics.push(entry);
        lastEntryEpisode = ep;
        await writeJson(paths.metrics, trainer.metrics);
        if (!live) {
          log(summaryLine(trainer, entry.mean_reward, entry.success_rate, last, t0, startEpisode));
        }
      }
      if (ep % run.ppo.save_interval === 0) {
        await saveTrainerCheckpoint(paths.checkpoint(ep), trainer);
      }
      if (live) {
        const recent = trainer.rewards.slice(-run.ppo.eval_interval);
        Deno.stderr.writeSync(
          new TextEncoder().encode(
            `\r${
              summaryLine(
                trainer,
                mean(recent),
                mean(trainer.successes.slice(-run.ppo.eval_interval)),
                last,
                t0,
                startEpisode,
              )
            }\x1b[K`,
          ),
        );
      }
      // Let the SIGINT listener run.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (interrupted) break;
    }
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    const wallSeconds = (performance.now() - t0) / 1000;
    if (interrupted) {
      const path = paths.checkpoint(trainer.episode);
      await saveTrainerCheckpoint(path, trainer);
      await writeJson(paths.metrics, trainer.metrics);
      await writeJson(
        paths.trainMetrics,
        trainSummary(run, trainer, startTime, wallSeconds, null, { interrupted: true }),
      );
      console.error(`train: interrupted at episode ${trainer.episode}; saved ${path}`);
      return 130;
    }
    await saveTrainerCheckpoint(paths.final, trainer);
    if (trainer.metrics.length === 0 || trainer.metrics.at(-1)!.episode !== trainer.episode) {
      await writeJson(paths.metrics, trainer.metrics);
    }
    const heldout = heldoutEvaluation(run, trainer, planner);
    await writeJson(
      paths.trainMetrics,
      trainSummary(run, trainer, startTime, wallSeconds, heldout),
    );
    printHeldout(heldout);
    log(`train: done in ${wallSeconds.toFixed(1)} s; wrote ${describe(paths)}`);
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

interface Heldout {
  seeds: [number, number];
  sft: EvalSummary;
  refined: EvalSummary;
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
  return {
    seeds: [HELDOUT_SEED_BASE, count],
    sft: evaluatePolicy({ ...common, model: null }),
    refined: evaluatePolicy({ ...common, model: trainer.model }),
  };
}

function printHeldout(h: Heldout): void {
  const row = (name: string, s: EvalSummary) =>
    `${name.padEnd(12)} ${s.mean_return.toFixed(2).padStart(11)} ${
      (100 * s.success_rate).toFixed(1).padStart(8)
    }% ${s.mean_length.toFixed(1).padStart(11)}`;
  console.log(
    `held-out evaluation: ${h.seeds[1]} episodes, seeds ${h.seeds[0]}..${
      h.seeds[0] + h.seeds[1] - 1
    }`,
  );
  console.log(
    `${"policy".padEnd(12)} ${"mean return".padStart(11)} ${"success".padStart(9)} ${
      "mean length".padStart(11)
    }`,
  );
  console.log(row("sft", h.sft));
  console.log(row("sft + delta", h.refined));
}

function trainSummary(
  run: RunConfig,
  trainer: Trainer,
  startTime: Date,
  wallSeconds: number,
  heldout: Heldout | null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const last100 = (xs: number[]) => mean(xs.slice(-100));
  return {
    start_time: startTime.toISOString(),
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
    ...(heldout ? { heldout } : {}),
    wall_time_s: wallSeconds,
    env_steps: trainer.envStepsThisProcess,
    env_steps_per_second: trainer.envStepsThisProcess / Math.max(wallSeconds, 1e-9),
    ...extra,
  };
}

function summaryLine(
  trainer: Trainer,
  meanReward: number,
  successRate: number,
  last: IterationResult,
  t0: number,
  startEpisode: number,
): string {
  const elapsed = (performance.now() - t0) / 1000;
  const sps = trainer.envStepsThisProcess / Math.max(elapsed, 1e-9);
  const total = trainer.ppo.episodes;
  const perEpisode = elapsed / Math.max(1, trainer.episode - startEpisode);
  const eta = Math.max(0, (total - trainer.episode) * perEpisode);
  return `episode ${trainer.episode}/${total}  reward ${meanReward.toFixed(2)}  success ${
    (100 * successRate).toFixed(0)
  }%  kl ${last.update.kl.toFixed(4)}  ${Math.round(sps)} steps/s  eta ${eta.toFixed(0)} s`;
}

function describe(paths: RunPaths): string {
  return paths.dir;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
