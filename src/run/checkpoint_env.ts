/**
 * The env a checkpoint was trained on, read back as untrusted input: its name (never
 * loaded from the file) and its settings, checked against the env the command line
 * chose, including what only the command line may set.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import {
  checkSettings,
  DEFAULT_ENV_ID,
  defaultSettings,
  sectionCheckpointKey,
} from "../env/mod.ts";
import type { EnvDefinition, EnvSettings } from "../env/mod.ts";
import type { LoadedCheckpoint } from "./checkpoint.ts";

/**
 * The env a checkpoint was trained on: its `env_name` (ours, written for envs other than
 * the default), else the default env's id. Only a name: what it names is never loaded
 * from the file.
 *
 * @example
 * ```ts ignore
 * checkpointEnvName(parseTrainerCheckpoint(await readPt(p), p)); // "mountain_car"
 * ```
 */
export function checkpointEnvName(ckpt: LoadedCheckpoint): string {
  const name = ckpt.extra.env_name;
  if (name === undefined || name === null) return DEFAULT_ENV_ID;
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new UserError(
      `${ckpt.source}: env_name: expected an env's id, got ${describe(name)}`,
    );
  }
  return name;
}

/**
 * The settings a checkpoint recorded for env `def`, section by section over the env's
 * defaults: the main section from `env_cfg` (the Python trainer's files have none: the
 * keys of `cfg` the main section also has, such as `horizon_steps`), the others from
 * `<key>_cfg`. Checked against the env's tables and its own checks, and against what the
 * command line alone sets (`commandLineOnly`); a fault is a {@linkcode UserError} naming
 * the file and the key.
 *
 * @example
 * ```ts ignore
 * const settings = checkpointSettings(ckpt, DRIVING_ENV);
 * ```
 */
export function checkpointSettings(ckpt: LoadedCheckpoint, def: EnvDefinition): EnvSettings {
  const defaults = defaultSettings(def);
  const out: Record<string, Record<string, unknown>> = {};
  for (const section of def.sections) {
    const values = { ...defaults[section.key] };
    const main = section.key === "env";
    const stored = main ? ckpt.envCfg ?? ckpt.cfg : ckpt.extra[sectionCheckpointKey(section)];
    if (stored !== undefined && stored !== null) {
      if (typeof stored !== "object" || Array.isArray(stored)) {
        throw new UserError(`${ckpt.source}: ${sectionCheckpointKey(section)}: expected a dict`);
      }
      // the Python trainer's cfg holds PPO keys too: only the section's own are taken
      const onlyKnown = main && ckpt.envCfg === null;
      for (const [k, v] of Object.entries(section.absentInCheckpoint ?? {})) {
        if (!(k in stored)) values[k] = v;
      }
      for (const [k, v] of Object.entries(stored)) {
        if (!onlyKnown || k in values) values[k] = v;
      }
    }
    out[section.key] = values;
  }
  try {
    checkSettings(def, out);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const where = (key: string) =>
      key === "env" ? (ckpt.envCfg ? "env_cfg" : "cfg") : sectionCheckpointKey(
        def.sections.find((s) => s.key === key) ?? { key, title: "", table: {} },
      );
    throw new UserError(
      `${ckpt.source}: ${e.message.replace(/^([a-z_]+)(?=[.:])/, (k) => where(k))}`,
    );
  }
  checkCommandLineOnly(def, { recorded: out.env, where: `${ckpt.source}: env_cfg` });
  return out;
}

/**
 * Refuses `opts.recorded` (a file's main section, `opts.where` naming it) where a key only
 * the command line sets (`def.commandLineOnly`) holds another value than the command line
 * gave.
 *
 * @example
 * ```ts ignore
 * checkCommandLineOnly(def, { recorded: run.env, where: "--config run/config.json: env" });
 * ```
 */
export function checkCommandLineOnly(
  def: EnvDefinition,
  opts: { recorded: Readonly<Record<string, unknown>>; where: string },
): void {
  const { recorded, where } = opts;
  const named = defaultSettings(def).env;
  for (const key of def.commandLineOnly ?? []) {
    const file = JSON.stringify(recorded[key]), line = JSON.stringify(named[key]);
    if (file !== line) {
      throw new UserError(
        `${where}.${key} records ${shortText(file)}, the command line names ${
          shortText(line)
        }; they must agree (only the command line chooses what is loaded or run)`,
      );
    }
  }
}

function shortText(text: string | undefined): string {
  const t = text ?? "nothing";
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

// A value for an error message: short JSON.
function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
