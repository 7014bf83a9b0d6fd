/**
 * The training checkpoint as a PyTorch object tree: the Python trainer's layout
 * (`delta_head`, `value_head`, `optimizer`, `cfg`) plus the progress a resume needs.
 *
 * @module
 */

import { adamStateDict, stateDict } from "../nn/mod.ts";
import { UserError } from "../errors.ts";
import type { EnvDefinition, EnvSettings } from "../env/mod.ts";
import { jsonToPt, PtDict, ptToJson, PtTuple, Tensor, writePt } from "../io/mod.ts";
import type { PtValue } from "../io/mod.ts";
import type { PpoConfig, Trainer, TrainerProgress } from "../ppo/mod.ts";
import { metricsEntryJson, parseMetricsEntry, renameOldBest } from "./run_log.ts";
import type { BestRecord, MetricsEntry, RunLog, RunLogState } from "./run_log.ts";
import { DEFAULT_PPO_CONFIG, validatePpoConfig } from "../ppo/mod.ts";
import {
  checkpointEnvSteps,
  checkpointObsRms,
  checkpointRetRms,
  putNormalizers,
} from "./checkpoint_norms.ts";

/** Format tag stored in our checkpoints (absent in the Python trainer's). */
export const CHECKPOINT_FORMAT = "delta-waypoint/1";

/** What a checkpoint stores besides the trainer: the run's log and extra top-level keys. */
export interface CheckpointOptions {
  /** The run's diary (histories, metrics, best); absent: stored empty. */
  log?: RunLog;
  /** Further top-level keys, as plain JSON (`sft_model`, `env_name`). */
  extra?: Record<string, unknown>;
}

/**
 * The whole checkpoint of a trainer and its run log at the current episode.
 *
 * @example
 * ```ts ignore
 * await writePt("final.pt", trainerCheckpoint(trainer, { log, extra: { sft_model: null } }));
 * ```
 */
export function trainerCheckpoint(trainer: Trainer, opts: CheckpointOptions = {}): PtDict {
  const { model, optimizer } = trainer;
  const progress = trainer.progress();
  const { episode, rng } = progress;
  const log: RunLogState = opts.log?.state() ??
    { rewards: [], lengths: [], successes: [], metrics: [], best: null };
  const root = new PtDict();
  root.set("delta_head", stateDict(model.delta, model));
  root.set("value_head", stateDict(model.value, model));
  root.set("optimizer", adamStateDict(optimizer, [model.delta, model.value], model));
  root.set("cfg", jsonToPt(trainer.ppo));
  root.set("env_cfg", jsonToPt(trainer.env));
  root.set("format", CHECKPOINT_FORMAT);
  root.set("episode", episode);
  root.set("rng", jsonToPt(rng));
  putNormalizers(root, { progress, obsNorm: model.obsNorm });
  putRunLog(root, log);
  for (const [k, v] of Object.entries(opts.extra ?? {})) root.set(k, jsonToPt(v));
  return root;
}

/**
 * Sets the run log's keys of checkpoint `root` (`rewards`, `lengths`, `successes`,
 * `metrics`, `best`) from `log`; a key `root` holds already keeps its place.
 *
 * @example
 * ```ts ignore
 * putRunLog(root, runLog.state());
 * ```
 */
export function putRunLog(root: PtDict, log: RunLogState): void {
  root.set("rewards", log.rewards);
  root.set("lengths", log.lengths);
  root.set("successes", log.successes);
  root.set("metrics", jsonToPt(log.metrics.map((e) => metricsEntryJson(e, log.base))));
  root.set("best", jsonToPt(log.best));
}

/**
 * Writes {@linkcode trainerCheckpoint} atomically to `path`.
 *
 * @example
 * ```ts ignore
 * await saveTrainerCheckpoint("out/run/best.pt", trainer, { log, extra: { sft_model: null } });
 * ```
 */
export async function saveTrainerCheckpoint(
  path: string,
  trainer: Trainer,
  opts: CheckpointOptions = {},
): Promise<void> {
  await writePt(path, trainerCheckpoint(trainer, opts));
}

/** What a training checkpoint holds, whoever wrote it (this program or the Python trainer). */
export interface LoadedCheckpoint {
  /** Path the checkpoint came from (for messages). */
  source: string;
  /** state_dict of the delta head: `log_std` (H, 2) and the MLP's `net.*` tensors. */
  deltaHead: PtDict;
  /** state_dict of the value head (`net.*` tensors). */
  valueHead: PtDict;
  /** torch Adam state_dict, or null when the file has none. */
  optimizer: PtDict | null;
  /** PPO config (`cfg`), as plain JSON. */
  cfg: Record<string, unknown> | null;
  /** Environment config (`env_cfg`, ours only). */
  envCfg: Record<string, unknown> | null;
  /** Episodes done when it was written (ours only; the Python trainer's name it in the file name). */
  episode: number | null;
  /** Everything else at the top level, as plain JSON (rng, rewards, metrics, ...). */
  extra: Record<string, unknown>;
}

/**
 * Checks that a decoded `.pt` is a training checkpoint and takes it apart.
 *
 * @example
 * ```ts ignore
 * const ckpt = parseTrainerCheckpoint(await readPt(path), path);
 * ```
 */
export function parseTrainerCheckpoint(root: PtValue, source: string): LoadedCheckpoint {
  if (!(root instanceof PtDict)) {
    throw new UserError(
      `${source}: not a training checkpoint (the file holds a ${kindOf(root)}, not a dict)`,
    );
  }
  const need = (key: string): PtDict => {
    const v = root.get(key);
    if (!(v instanceof PtDict)) {
      const keys = [...root.keys()].map(String).join(", ");
      throw new UserError(
        `${source}: not a training checkpoint (no '${key}' state_dict; top-level keys: ${
          keys || "none"
        })`,
      );
    }
    return v;
  };
  const deltaHead = need("delta_head");
  const valueHead = need("value_head");
  const opt = root.get("optimizer");
  const extra: Record<string, unknown> = {};
  const known = new Set(["delta_head", "value_head", "optimizer", "cfg", "env_cfg", "episode"]);
  for (const [k, v] of root.entries()) if (!known.has(String(k))) extra[String(k)] = ptToJson(v);
  const episode = root.get("episode");
  const validEpisode = typeof episode === "number" && Number.isInteger(episode) && episode >= 0 &&
    episode <= 1e9;
  if (episode !== undefined && episode !== null && !validEpisode) {
    throw new UserError(
      `${source}: episode: expected an integer in [0, 1e9], got ${describe(ptToJson(episode))}`,
    );
  }
  const asObject = (v: PtValue | undefined) =>
    v instanceof PtDict ? ptToJson(v) as Record<string, unknown> : null;
  return {
    source,
    deltaHead,
    valueHead,
    optimizer: opt instanceof PtDict ? opt : null,
    cfg: asObject(root.get("cfg")),
    envCfg: asObject(root.get("env_cfg")),
    episode: validEpisode ? episode as number : null,
    extra,
  };
}

function kindOf(v: PtValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "list";
  if (v instanceof Tensor) return "tensor";
  if (v instanceof PtTuple) return "tuple";
  return typeof v;
}

/**
 * The PPO configuration a checkpoint records (`cfg`) over the defaults, with
 * `encoder_out_dim` the observation size of the env `def` with `settings` and the keys
 * its settings fix. Every value must have the type of its default and lie in the range
 * the flags accept (the table of `validatePpoConfig`); otherwise a {@linkcode UserError}
 * names the file and the key.
 *
 * @example
 * ```ts ignore
 * const ppo = checkpointPpoConfig(ckpt, { definition, settings });
 * ```
 */
export function checkpointPpoConfig(
  ckpt: LoadedCheckpoint,
  env: { definition: EnvDefinition; settings: EnvSettings },
): PpoConfig {
  // a checkpoint from before obs_norm and value_scale (or the Python trainer's) had neither;
  // one without init_log_std (the Python trainer's) records the default of that time, -1
  const ppo: PpoConfig = {
    ...DEFAULT_PPO_CONFIG,
    obs_norm: false,
    value_scale: 1,
    init_log_std: -1,
  };
  const record = ppo as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(ckpt.cfg ?? {})) {
    // the device of the machine that wrote it says nothing about this one
    if (!(k in ppo) || k === "device") continue;
    const want = DEFAULT_PPO_CONFIG[k as keyof PpoConfig];
    if (k === "resume") {
      if (v !== null && typeof v !== "string") {
        throw new UserError(
          `${ckpt.source}: cfg.resume: expected a path or None, got ${describe(v)}`,
        );
      }
    } else if (typeof v !== typeof want) {
      throw new UserError(
        `${ckpt.source}: cfg.${k}: expected a ${typeof want}, got ${describe(v)}`,
      );
    }
    record[k] = v;
  }
  const { definition, settings } = env;
  ppo.encoder_out_dim = definition.make(settings, 1).obsDim;
  Object.assign(ppo, definition.ppoFromSettings?.(settings) ?? {});
  try {
    validatePpoConfig(ppo);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new UserError(`${ckpt.source}: ${e.message.replace(/^ppo\./, "cfg.")}`);
  }
  return ppo;
}

/** The trainer's progress and the run's log, as a checkpoint of ours stores them. */
export interface CheckpointProgress extends TrainerProgress, RunLogState {}

/**
 * The progress a checkpoint of ours holds for a resume (episode histories, metrics, RNG
 * streams, best record, env steps, normaliser statistics), checked: histories as long as
 * `episode`, numbers where numbers belong (NaN marks an unknown episode of a run resumed
 * from the Python trainer), RNG states of four uint32 words (not all zero), a best record
 * with finite numbers, `obs_rms` and `ret_rms` finite with variances ≥ 0. Null when the
 * file holds no RNG state (the Python trainer's). A violation is refused with a
 * {@linkcode UserError} naming the file and the key.
 *
 * @example
 * ```ts ignore
 * const progress = checkpointProgress(ckpt, 250);
 * ```
 */
export function checkpointProgress(
  ckpt: LoadedCheckpoint,
  episode: number,
): CheckpointProgress | null {
  const x = ckpt.extra;
  const fail = (key: string, want: string, got: unknown): never => {
    throw new UserError(`${ckpt.source}: ${key}: expected ${want}, got ${describe(got)}`);
  };
  if (x.rng === undefined || x.rng === null) return null;
  const rng = x.rng as Record<string, unknown>;
  if (typeof rng !== "object" || Array.isArray(rng)) fail("rng", "a dict {policy, shuffle}", rng);
  const words = (key: "policy" | "shuffle"): number[] => {
    const v = rng[key];
    const ok = Array.isArray(v) && v.length === 4 &&
      v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) && v.some((w) => w !== 0);
    if (!ok) fail(`rng.${key}`, "four uint32 words, not all zero", v);
    return v as number[];
  };
  const history = (key: string, check: (v: number) => boolean, want: string): number[] => {
    const v = x[key];
    if (v === undefined) return new Array<number>(episode).fill(NaN);
    if (!Array.isArray(v)) return fail(key, `a list of ${episode} numbers`, v);
    if (v.length !== episode) {
      throw new UserError(
        `${ckpt.source}: ${key}: holds ${v.length} entries, expected ${episode} (one per episode)`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (typeof e !== "number" || !(Number.isNaN(e) || check(e))) {
        throw new UserError(`${ckpt.source}: ${key}[${i}]: expected ${want}, got ${describe(e)}`);
      }
    }
    return v as number[];
  };
  const rewards = history("rewards", Number.isFinite, "a finite number");
  const lengths = history("lengths", (v) => Number.isInteger(v) && v >= 1, "a positive integer");
  const successes = history("successes", (v) => v === 0 || v === 1, "0 or 1");
  const metrics = x.metrics ?? [];
  if (!Array.isArray(metrics)) fail("metrics", "a list of dicts", metrics);
  let previous = 0;
  const entries = (metrics as unknown[]).map((m, i): MetricsEntry => {
    const ep = (m as Record<string, unknown> | null)?.episode;
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      fail(`metrics[${i}]`, "a dict", m);
    }
    if (!Number.isInteger(ep) || (ep as number) < previous || (ep as number) > episode) {
      fail(`metrics[${i}].episode`, `an integer in [${previous}, ${episode}]`, ep);
    }
    previous = ep as number;
    return parseMetricsEntry(m as Record<string, unknown>, {
      fail: (key, want, got) => fail(`metrics[${i}].${key}`, want, got),
    });
  });
  let best: BestRecord | null = null;
  if (x.best !== undefined && x.best !== null) {
    const b = x.best as Record<string, unknown>;
    if (typeof b !== "object" || Array.isArray(b)) fail("best", "a dict or None", b);
    if (
      !Number.isInteger(b.episode) || (b.episode as number) < 0 || (b.episode as number) > episode
    ) {
      fail("best.episode", `an integer in [0, ${episode}]`, b.episode);
    }
    // return_mean and the env's tie-break metric (driving: ade_mean); a checkpoint
    // written before the rename has eval_return and <key>, read as return_mean, <key>_mean
    const old = Object.hasOwn(b, "eval_return") && !Object.hasOwn(b, "return_mean");
    const keys = [
      old ? "eval_return" : "return_mean",
      ...Object.keys(b).filter((k) => k !== "episode"),
    ];
    for (const key of new Set(keys)) {
      if (typeof b[key] !== "number" || !Number.isFinite(b[key])) {
        fail(`best.${key}`, "a finite number", b[key]);
      }
    }
    best = { ...(renameOldBest(b) as Record<string, number>) } as BestRecord;
  }
  return {
    episode,
    rewards,
    lengths,
    successes,
    metrics: entries,
    rng: { policy: words("policy"), shuffle: words("shuffle") },
    best,
    envSteps: checkpointEnvSteps(ckpt, lengths),
    obsRms: checkpointObsRms(ckpt, null),
    retRms: checkpointRetRms(ckpt),
  };
}

// A value for an error message: short JSON (NaN and infinities spelled out).
function describe(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (v === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(
      v,
      (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x),
    ) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
