/**
 * The whole configuration of a training run, the schema of its `config.json`: its folder,
 * the planner file it refines, the env it trains on (`env_name`, absent for the default
 * env) and that env's own sections (`env`, then any others it declares), and the PPO
 * section. Its defaults per env, its parts as `--config` files and checkpoints take them,
 * and the sizes that follow the env (`encoder_out_dim`, the Python trainer's
 * `horizon_steps`).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import {
  BUILTIN_ENVS,
  checkSettings,
  DEFAULT_ENV_ID,
  defaultSettings,
  sectionCheckpointKey,
} from "../env/mod.ts";
import type { EnvDefinition, EnvSettings, VecEnv } from "../env/mod.ts";
import { DEFAULT_PPO_CONFIG, GENERIC_PPO_DEFAULTS, validatePpoConfig } from "../ppo/mod.ts";
import type { PpoConfig } from "../ppo/mod.ts";

/**
 * The whole configuration of a run, as written to `config.json`:
 * `{out_dir, sft_model, env_name?, env, <the env's other sections>, ppo}`.
 */
export interface RunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** Planner file refined (`--sft-model`); null: the env's own base planner. */
  sft_model: string | null;
  /** The env trained on (`--env`), absent for the default env (a driving run's file is as before). */
  env_name?: string;
  /** The env's main section. */
  env: Record<string, unknown>;
  /** PPO hyperparameters; `encoder_out_dim` is the env's observation size. */
  ppo: PpoConfig;
  /** The env's other sections, by key (traffic: `traffic`). */
  [section: string]: unknown;
}

/**
 * The env's sections of `run`, by key.
 *
 * @example
 * ```ts ignore
 * const settings = runSettings(run, definition);
 * ```
 */
export function runSettings(run: RunConfig, def: EnvDefinition): EnvSettings {
  return Object.fromEntries(
    def.sections.map((s) => [s.key, run[s.key] as Record<string, unknown>]),
  );
}

/**
 * The default configuration of a run on `def`: its folder (`outDir`, else
 * `out/<id>/run_001`), its sections' defaults, and the generic PPO defaults overlaid with
 * the env's own; an env with a symmetric action Box and no base planner (plain PPO) has
 * `delta_clip` its largest bound unless it sets one.
 *
 * @example
 * ```ts ignore
 * runConfigDefaults(MOUNTAIN_CAR_ENV).out_dir; // "out/mountain_car/run_001"
 * ```
 */
export function runConfigDefaults(def: EnvDefinition): RunConfig {
  const settings = defaultSettings(def);
  const base = BUILTIN_ENVS.includes(def) ? DEFAULT_PPO_CONFIG : GENERIC_PPO_DEFAULTS;
  const ppo: PpoConfig = { ...base, ...(def.ppoDefaults ?? {}) } as PpoConfig;
  if (def.ppoDefaults?.delta_clip === undefined && def.planners?.sft === undefined) {
    const bound = symmetricBound(def.make(settings, 1));
    if (bound !== null) ppo.delta_clip = bound;
  }
  return {
    out_dir: def.outDir ?? `out/${def.id}/run_001`,
    sft_model: null,
    ...(def.id === DEFAULT_ENV_ID ? {} : { env_name: def.id }),
    ...settings,
    env: settings.env,
    ppo,
  };
}

// The largest |bound| of a finite action Box symmetric about 0, else null.
function symmetricBound(env: VecEnv): number | null {
  const box = env.actionSpace;
  if (!box) return null;
  let bound = 0;
  for (let j = 0; j < box.low.length; j++) {
    const lo = box.low[j], hi = box.high[j];
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo !== -hi) return null;
    bound = Math.max(bound, hi);
  }
  return bound > 0 ? bound : null;
}

/**
 * Checks a run configuration on `def` and fills what follows the env: its sections
 * checked (the env's tables and own checks), `ppo.encoder_out_dim` its observation size
 * and the PPO keys its settings fix (`ppoFromSettings`), then the PPO section. A planner
 * file is refused for an env that takes none. Faults are one-line {@linkcode UserError}s.
 *
 * @example
 * ```ts ignore
 * fitRunToEnv(run, DRIVING_ENV); // run.ppo.encoder_out_dim = 41
 * ```
 */
export function fitRunToEnv(run: RunConfig, def: EnvDefinition): void {
  const settings = runSettings(run, def);
  invalidIsBadInput(() => checkSettings(def, settings));
  if (run.sft_model !== null && !def.plannerFile) {
    throw new UserError(`--sft-model: --env ${def.id} takes no planner file`);
  }
  run.ppo.encoder_out_dim = def.make(settings, 1).obsDim;
  Object.assign(run.ppo, def.ppoFromSettings?.(settings) ?? {});
  invalidIsBadInput(() => validatePpoConfig(run.ppo));
}

function invalidIsBadInput(check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
}

/**
 * What a run's `--config` files and checkpoints take of it: the sections a config file
 * may set (the env's and `ppo`), the top-level keys it ignores, and the keys its
 * checkpoints add (`env_name`, each further section as `<key>_cfg`).
 *
 * @example
 * ```ts ignore
 * applyConfigFile(path, runEnvParts(run, def).sections, { ignore: runEnvParts(run, def).ignore });
 * ```
 */
export function runEnvParts(run: RunConfig, def: EnvDefinition): {
  sections: Record<string, object>;
  ignore: string[];
  extra: Record<string, unknown>;
} {
  const sections: Record<string, object> = {};
  const extra: Record<string, unknown> = run.env_name ? { env_name: run.env_name } : {};
  for (const s of def.sections) {
    sections[s.key] = run[s.key] as object;
    if (s.key !== "env") extra[sectionCheckpointKey(s)] = run[s.key];
  }
  return {
    sections: { ...sections, ppo: run.ppo },
    ignore: ["out_dir", "sft_model", "env_name"],
    extra,
  };
}
