/**
 * The env of a run folder as `report` and `aggregate` know it without loading it: its
 * `env.json` (`train` writes it), or, for a folder written before it, the built-in env
 * its `config.json` names (the default env without `env_name`, or without `config.json`). Neither ever imports a
 * module or starts a worker: a module's or `gym:ID` run folder without `env.json` has no
 * env they can describe.
 *
 * @module
 */

import { join } from "node:path";
import { builtinEnv, checkSettings, DEFAULT_ENV_ID, defaultSettings } from "../env/mod.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { ENV_RECORD_FILE, envRecord, parseEnvRecord } from "../run/mod.ts";
import type { EnvRecord } from "../run/mod.ts";
import { readJsonFile } from "./seed_dirs.ts";

/** A run folder's env, and its sections as its `config.json` records them. */
export interface RunEnv {
  /** What `env.json` says (or the built-in env's record). */
  record: EnvRecord;
  /** The env's sections from `config.json` (over the defaults for a built-in env). */
  settings: Record<string, Record<string, unknown>>;
  /** The built-in env's entry, when it is one (never a module's: none is loaded). */
  builtin: EnvDefinition | undefined;
}

/**
 * The env of run folder `dir`, or why there is none (one line).
 *
 * @example
 * ```ts ignore
 * const env = readRunEnv("out/run");
 * if ("record" in env) console.log(env.record.metrics.map((m) => m.name));
 * ```
 */
export function readRunEnv(dir: string): RunEnv | { problem: string } {
  const configPath = join(dir, "config.json");
  const config = readJsonFile(configPath);
  // a folder without config.json: the default env's
  if ("problem" in config && !config.notFound) return { problem: config.problem };
  const c = ("value" in config ? config.value : {}) as Record<string, unknown> | null;
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    return { problem: `${configPath}: not an object` };
  }
  const name = c.env_name ?? DEFAULT_ENV_ID;
  if (typeof name !== "string") return { problem: `${configPath}: env_name: expected text` };
  const builtin = builtinEnv(name);
  const recordPath = join(dir, ENV_RECORD_FILE);
  const read = readJsonFile(recordPath);
  let record: EnvRecord | null = null;
  if ("value" in read) {
    const parsed = parseEnvRecord(read.value, recordPath);
    if ("problem" in parsed) return parsed;
    if (parsed.record.id !== name) {
      return { problem: `${recordPath}: id ${parsed.record.id}, but config.json names ${name}` };
    }
    record = parsed.record;
  } else if (!read.notFound) return { problem: read.problem };
  const settings = sectionsOf(c, builtin);
  if ("problem" in settings) return { problem: `${configPath}: ${settings.problem}` };
  if (record === null) {
    if (!builtin) {
      return { problem: `${dir}: no ${ENV_RECORD_FILE}, and env '${name}' is not built in` };
    }
    const probe = builtin.make(settings, 1);
    record = envRecord({ definition: builtin, kind: "builtin", spec: name }, probe);
  }
  return { record, settings, builtin };
}

// The env's sections of a config.json: for a built-in env its sections over their
// defaults, checked; for another, the sections as they are (every key but the run's).
function sectionsOf(
  config: Record<string, unknown>,
  builtin: EnvDefinition | undefined,
): Record<string, Record<string, unknown>> | { problem: string } {
  const own = ["out_dir", "sft_model", "env_name", "ppo"];
  if (!builtin) {
    return Object.fromEntries(
      Object.entries(config).filter(([k, v]) => !own.includes(k) && typeof v === "object"),
    ) as Record<string, Record<string, unknown>>;
  }
  const settings = defaultSettings(builtin);
  for (const [key, values] of Object.entries(settings)) {
    const given = config[key];
    if (given === undefined) continue;
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      return { problem: `${key}: expected an object` };
    }
    for (const [k, v] of Object.entries(given)) values[k] = v;
  }
  try {
    checkSettings(builtin, settings);
  } catch (e) {
    if (e instanceof RangeError) return { problem: e.message };
    throw e;
  }
  return settings;
}
