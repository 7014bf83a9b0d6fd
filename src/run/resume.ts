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
import { DEFAULT_ENV_ID } from "../env/mod.ts";
import type { EnvDefinition, EnvSettings } from "../env/mod.ts";
import { ActorCritic, loadAdamState, loadStateDict, ObsNormalizer } from "../nn/mod.ts";
import { Rng } from "../math/mod.ts";
import { readPt, Tensor } from "../io/mod.ts";
import type { PtDict } from "../io/mod.ts";
import type { PpoConfig, Trainer } from "../ppo/mod.ts";
import type { RunLog } from "./run_log.ts";
import type { RunConfig } from "./run_config.ts";
import { checkpointPpoConfig, checkpointProgress, parseTrainerCheckpoint } from "./checkpoint.ts";
import { checkpointEnvName, checkpointSettings } from "./checkpoint_env.ts";
import type { CheckpointProgress, LoadedCheckpoint } from "./checkpoint.ts";
import { checkpointEnvSteps, checkpointObsRms } from "./checkpoint_norms.ts";

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
  /** Its configuration, checked (`cfg` over the defaults). */
  ppo: PpoConfig;
  /** The env it was trained on (named on the command line, or a built-in one). */
  definition: EnvDefinition;
  /** The env's settings it recorded (`env_cfg`, `<key>_cfg`), checked. */
  settings: EnvSettings;
  /** Its progress, checked; null for the Python trainer's files (no RNG state). */
  progress: CheckpointProgress | null;
}

/**
 * Reads the checkpoint at `path` and takes it apart, nothing checked yet beyond its
 * shape: what `--resume` and `eval` read first, to learn which env it names.
 *
 * @example
 * ```ts ignore
 * const ckpt = await readTrainerCheckpoint("out/run/final.pt");
 * ```
 */
export async function readTrainerCheckpoint(path: string): Promise<LoadedCheckpoint> {
  return parseTrainerCheckpoint(await readPt(path), path);
}

/**
 * Checks the checkpoint `ckpt` (read from `ckpt.source`) for a resume on env `def`: its
 * episode (from the file, or for the Python trainer's files from the name
 * `checkpoint_{N}.pt`), run folder, settings, configuration and progress. Bad content is
 * refused with a {@linkcode UserError} naming the file and the key.
 *
 * @example
 * ```ts ignore
 * const point = resumePoint(await readTrainerCheckpoint(path), DRIVING_ENV);
 * ```
 */
export function resumePoint(ckpt: LoadedCheckpoint, def: EnvDefinition): ResumePoint {
  const path = ckpt.source;
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
  const settings = checkpointSettings(ckpt, def);
  const ppo = checkpointPpoConfig(ckpt, { definition: def, settings });
  const progress = checkpointProgress(ckpt, episode);
  return { path, ckpt, episode, runDir, ppo, definition: def, settings, progress };
}

/**
 * The resumed run's base configuration: what the checkpoint recorded (ppo `cfg`, the
 * env's sections, the planner file it refined) over the defaults, in its own run folder.
 *
 * @example
 * ```ts ignore
 * const base = resumedBaseConfig(point);
 * ```
 */
export function resumedBaseConfig(point: ResumePoint): RunConfig {
  const sft = point.ckpt.extra.sft_model;
  const envName = checkpointEnvName(point.ckpt);
  const sections = Object.fromEntries(
    Object.entries(point.settings).map(([k, v]) => [k, { ...v }]),
  );
  return {
    out_dir: point.runDir,
    sft_model: typeof sft === "string" ? sft : null,
    ...(envName === DEFAULT_ENV_ID ? {} : { env_name: envName }),
    ...sections,
    env: sections.env,
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
    checkNormalizers(trainer, point);
    trainer.restoreProgress(point.progress);
    log.restore(point.progress);
  } else {
    warn(
      `warning: ${path} holds no RNG state (written by the Python trainer?); ` +
        `episode ${episode} continues with fresh sampling and shuffling streams from seed ${trainer.ppo.seed}`,
    );
    trainer.episode = episode;
    trainer.envSteps = checkpointEnvSteps(ckpt, []);
    log.fillUnknown(episode);
  }
}

// The checkpoint holds each normaliser's statistics exactly when the run has it on
// (the heads of a run with `norm_obs` take normalised observations), of the right size.
function checkNormalizers(trainer: Trainer, point: ResumePoint): void {
  const { obsRms, retRms } = point.progress!;
  const fault = (key: string, flag: string, on: boolean) =>
    new UserError(
      on
        ? `${point.path}: ${key}: missing, but ppo.${flag} is true (the run's statistics are not in the file)`
        : `${point.path}: ${key}: the run had ppo.${flag} on; resume it with ppo.${flag} true`,
    );
  if ((obsRms !== null) !== (trainer.model.obsNorm !== null)) {
    throw fault("obs_rms", "norm_obs", trainer.model.obsNorm !== null);
  }
  if ((retRms !== null) !== (trainer.rewardScaler !== null)) {
    throw fault("ret_rms", "norm_reward", trainer.rewardScaler !== null);
  }
  if (obsRms !== null && obsRms.mean.length !== trainer.model.inDim) {
    throw new UserError(
      `${point.path}: obs_rms.mean: has shape [${obsRms.mean.length}], expected [${trainer.model.inDim}] (the observation's size)`,
    );
  }
}

/**
 * The policy of a training checkpoint as an {@linkcode ActorCritic}, its sizes read
 * from the tensors (`log_std` [H, 2], `net.0.weight` [hidden, in]) and checked against
 * the environment's observation size; with the checkpoint's running observation
 * normaliser (`obs_rms`, checked) when it has one, so it acts on raw observations.
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
      }, ${obsDim}] (the environment's observation size)`,
    );
  }
  const obsRms = checkpointObsRms(ckpt, obsDim);
  const model = new ActorCritic({
    inDim: obsDim,
    hidden: first[0],
    actionShape: logStd,
    rng: new Rng(0),
    ...(obsRms ? { obsNorm: ObsNormalizer.from(obsRms) } : {}),
  });
  loadStateDict(model.delta, ckpt.deltaHead, { where: `${ckpt.source}: delta_head` });
  loadStateDict(model.value, ckpt.valueHead, { where: `${ckpt.source}: value_head` });
  return model;
}
