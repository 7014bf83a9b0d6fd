/**
 * Reading a training checkpoint back: resuming a run (the checkpoint read and checked
 * into a {@linkcode ResumePoint}, the configuration it implies, and its state put back
 * into a {@linkcode Trainer}), and its policy alone for evaluation
 * ({@linkcode modelFromCheckpoint}).
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import type { EnvConfig, EnvName, TrafficConfig } from "../env/mod.ts";
import { DEFAULT_TRAFFIC_CONFIG, ENV_NAMES, isEnvName, validateTrafficConfig } from "../env/mod.ts";
import { ActorCritic, loadAdamState, loadStateDict } from "../nn/mod.ts";
import { Rng } from "../math/mod.ts";
import { readPt, Tensor } from "../io/mod.ts";
import type { PtDict } from "../io/mod.ts";
import type { PpoConfig, Trainer } from "../ppo/mod.ts";
import type { RunLog } from "./run_log.ts";
import type { RunConfig } from "./run_config.ts";
import {
  checkpointEnvConfig,
  checkpointPpoConfig,
  checkpointProgress,
  parseTrainerCheckpoint,
} from "./checkpoint.ts";
import type { CheckpointProgress, LoadedCheckpoint } from "./checkpoint.ts";

/** A checkpoint to continue from, and where it puts the run. */
export interface ResumePoint {
  /** The checkpoint file (`--resume`). */
  path: string;
  /** What it holds, taken apart. */
  ckpt: LoadedCheckpoint;
  /** Episodes done when it was written. */
  episode: number;
  /** The run folder the checkpoint belongs to. */
  runDir: string;
  /** Its configuration, checked (`cfg` over the defaults, `env_cfg`). */
  ppo: PpoConfig;
  /** The environment it was trained in, checked. */
  env: EnvConfig;
  /** Its progress, checked; null for the Python trainer's files (no RNG state). */
  progress: CheckpointProgress | null;
}

/**
 * Reads and checks the checkpoint at `path` for a resume: its episode (from the file, or
 * for the Python trainer's files from the name `checkpoint_{N}.pt`), run folder,
 * configuration and progress. Bad content is refused with a {@linkcode UserError}
 * naming the file and the key.
 *
 * @example
 * ```ts ignore
 * const point = await loadResumePoint("out/run/checkpoints/checkpoint_250.pt");
 * ```
 */
export async function loadResumePoint(path: string): Promise<ResumePoint> {
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
  const env = checkpointEnvConfig(ckpt);
  const ppo = checkpointPpoConfig(ckpt, env);
  const progress = checkpointProgress(ckpt, episode);
  return { path, ckpt, episode, runDir, ppo, env, progress };
}

/**
 * The resumed run's base configuration: what the checkpoint recorded (ppo `cfg`, our
 * `env_cfg`, the SFT planner it refined) over the defaults, in its own run folder.
 *
 * @example
 * ```ts ignore
 * const base = resumedBaseConfig(await loadResumePoint(path));
 * ```
 */
export function resumedBaseConfig(point: ResumePoint): RunConfig {
  const sft = point.ckpt.extra.sft_model;
  const envName = checkpointEnvName(point.ckpt);
  return {
    out_dir: point.runDir,
    sft_model: typeof sft === "string" ? sft : null,
    ...(envName === "driving" ? {} : { env_name: envName }),
    env: { ...point.env },
    ...(envName === "traffic" ? { traffic: checkpointTrafficConfig(point.ckpt) } : {}),
    ppo: { ...point.ppo },
  };
}

/**
 * Puts weights, optimiser state and progress of the checkpoint into `trainer`, and its
 * histories, metrics and best record into `opts.log`; what the file lacks (optimizer
 * state, RNG state: the Python trainer's files) is said by `warn`.
 *
 * @example
 * ```ts ignore
 * restoreTrainer(trainer, point, { log, warn: (line) => console.error(line) });
 * ```
 */
export function restoreTrainer(
  trainer: Trainer,
  point: ResumePoint,
  opts: { log: RunLog; warn: (line: string) => void },
): void {
  const { warn, log } = opts;
  const { ckpt, path, episode } = point;
  const { model } = trainer; // converts the stored (raw-observation) form to the model's
  loadStateDict(model.delta, ckpt.deltaHead, { where: `${path}: delta_head`, model });
  loadStateDict(model.value, ckpt.valueHead, { where: `${path}: value_head`, model });
  if (ckpt.optimizer) {
    loadAdamState(trainer.optimizer, ckpt.optimizer, {
      sets: [trainer.model.delta, trainer.model.value],
      source: path,
      model,
    });
  } else {
    warn(`warning: ${path} holds no optimizer state; Adam starts afresh`);
  }
  if (point.progress) {
    trainer.restoreProgress(point.progress);
    log.restore(point.progress);
  } else {
    warn(
      `warning: ${path} holds no RNG state (written by the Python trainer?); ` +
        `episode ${episode} continues with fresh sampling and shuffling streams from seed ${trainer.ppo.seed}`,
    );
    trainer.episode = episode;
    log.fillUnknown(episode);
  }
}

/**
 * The traffic configuration a checkpoint of a traffic run recorded (`traffic_cfg`),
 * checked; the defaults when it has none, and `path_features` false when it does not
 * name it (a checkpoint from before the observation's path block).
 *
 * @example
 * ```ts ignore
 * checkpointTrafficConfig(ckpt).neighbors; // 8
 * ```
 */
export function checkpointTrafficConfig(ckpt: LoadedCheckpoint): TrafficConfig {
  const raw = ckpt.extra.traffic_cfg;
  if (raw === undefined || raw === null) return { ...DEFAULT_TRAFFIC_CONFIG };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`${ckpt.source}: traffic_cfg: expected an object`);
  }
  // checkpoints from before the path block recorded no path_features: they had none
  const cfg = {
    ...DEFAULT_TRAFFIC_CONFIG,
    path_features: false,
    ...(raw as Record<string, unknown>),
  } as TrafficConfig;
  try {
    validateTrafficConfig(cfg);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`${ckpt.source}: ${e.message}`);
    throw e;
  }
  return cfg;
}

/**
 * The env a checkpoint was trained on: its `env_name` (ours, written for envs other than
 * driving), else "driving".
 *
 * @example
 * ```ts ignore
 * checkpointEnvName(parseTrainerCheckpoint(await readPt(p), p)); // "mountain_car"
 * ```
 */
export function checkpointEnvName(ckpt: LoadedCheckpoint): EnvName {
  const name = ckpt.extra.env_name;
  if (name === undefined || name === null) return "driving";
  if (typeof name !== "string" || !isEnvName(name)) {
    throw new UserError(
      `${ckpt.source}: env_name: expected one of ${ENV_NAMES.join(", ")}, got ${
        JSON.stringify(name)
      }`,
    );
  }
  return name;
}

/**
 * The policy of a training checkpoint as an {@linkcode ActorCritic}, its sizes read
 * from the tensors (`log_std` [H, 2], `net.0.weight` [hidden, in]) and checked against
 * the environment's observation size.
 *
 * @example
 * ```ts ignore
 * const model = modelFromCheckpoint(parseTrainerCheckpoint(await readPt(p), p), 41);
 * ```
 */
export function modelFromCheckpoint(
  ckpt: LoadedCheckpoint,
  obsDim: number,
  opts: { actionShape?: readonly number[] } = {},
): ActorCritic {
  const shapeOf = (sd: PtDict, key: string, where: string): number[] => {
    const t = sd.get(key);
    if (!(t instanceof Tensor)) {
      throw new UserError(`${ckpt.source}: ${where}.${key}: missing from the checkpoint`);
    }
    return t.shape;
  };
  const logStd = shapeOf(ckpt.deltaHead, "log_std", "delta_head");
  const first = shapeOf(ckpt.deltaHead, "net.0.weight", "delta_head");
  const want = opts.actionShape;
  const shapeOk = want
    ? logStd.length === want.length && logStd.every((d, i) => d === want[i])
    : logStd.length === 2 && logStd[1] === 2;
  if (!shapeOk || first.length !== 2) {
    throw new UserError(
      `${ckpt.source}: delta_head.log_std has shape [${logStd.join(", ")}], expected [${
        want ? want.join(", ") : "H, 2"
      }]`,
    );
  }
  if (first[1] !== obsDim) {
    throw new UserError(
      `${ckpt.source}: delta_head.net.0.weight has shape [${first.join(", ")}], expected [${
        first[0]
      }, ${obsDim}] (the environment's observation size${want ? "" : " 1 + 2 * horizon_steps"})`,
    );
  }
  const model = new ActorCritic({
    inDim: obsDim,
    hidden: first[0],
    actionShape: logStd,
    rng: new Rng(0),
  });
  loadStateDict(model.delta, ckpt.deltaHead, { where: `${ckpt.source}: delta_head` });
  loadStateDict(model.value, ckpt.valueHead, { where: `${ckpt.source}: value_head` });
  return model;
}
