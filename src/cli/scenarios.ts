/**
 * `scenarios`: write a scenario set (a folder of scenario files, `docs/scenario_format.md`),
 * either seeded from the traffic env's generator or converted from logged episodes.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import {
  checkScenario,
  DEFAULT_TRAFFIC_CONFIG,
  generateScenario,
  HELDOUT_SEED_BASE,
  MAX_EPISODE_DEPTH,
  MAX_EPISODE_FILE_BYTES,
  MAX_EPISODE_STRING_BYTES,
  scenarioFromEpisode,
  TRAFFIC_ENV_DEFAULTS,
  validateEnvConfig,
  validateTrafficConfig,
} from "../env/mod.ts";
import type { Scenario } from "../env/mod.ts";
import { applyConfigFile } from "../io/mod.ts";
import { parseFlags, parseNumber } from "./_flags.ts";
import { listJsonFiles, MAX_SET_FILES, SetBudget, writeScenarioSet } from "../run/mod.ts";

const OPTIONS = {
  env: { type: "string" },
  count: { type: "string" },
  seed: { type: "string" },
  config: { type: "string" },
  "from-episodes": { type: "string" },
  "out-dir": { type: "string" },
  overwrite: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * `scenarios --help`.
 *
 * @example
 * ```ts
 * console.log(scenariosHelp());
 * ```
 */
export function scenariosHelp(): string {
  return [
    "Usage: delta-waypoint scenarios --env traffic --count N --seed S --out-dir DIR",
    "       delta-waypoint scenarios --from-episodes DIR --out-dir OUT",
    "",
    "Write a scenario set: one scenario file (JSON, docs/scenario_format.md) per scenario,",
    "for train --scenarios and eval --scenarios.",
    "",
    "Flags:",
    "  --env traffic          the env whose seeded scenarios are written (only traffic)",
    "  --count N              scenarios, seeds S..S+N-1 (default 100)",
    `  --seed S               first seed (default 0); a set is a training set (every seed below`,
    `                         ${HELDOUT_SEED_BASE}) or a held-out one (every seed from there on)`,
    '  --config FILE          JSON {"env": {...}, "traffic": {...}} they are generated for (e.g. a',
    "                         run's config.json; default: the traffic env's defaults)",
    "  --from-episodes DIR    convert the logged episodes (*.json, the research repo's episode",
    "                         JSON) in DIR instead: one scenario each, the ego's path as route",
    "                         and ADE/FDE reference, logged agents as replayed vehicles",
    "  --out-dir DIR          the folder written (required)",
    "  --overwrite            replace the scenario set already in --out-dir",
    "  --quiet                no progress output",
    "  -h, --help             this help",
  ].join("\n");
}

/** Scenarios with where each came from (an episode file, a seed), for messages. */
interface Made {
  scenarios: Scenario[];
  sources: string[];
}

async function fromEpisodes(dir: string): Promise<Made> {
  const files = listJsonFiles(dir, `--from-episodes ${dir}`);
  if (files.length === 0) {
    throw new UserError(`--from-episodes ${dir}: holds no episode files (*.json)`);
  }
  const budget = {
    maxBytes: MAX_EPISODE_FILE_BYTES,
    maxDepth: MAX_EPISODE_DEPTH,
    maxStringBytes: MAX_EPISODE_STRING_BYTES,
    what: "an episode file",
  };
  const scenarios: Scenario[] = [];
  const byId = new Map<string, string>();
  const setBudget = new SetBudget(`--from-episodes ${dir}`);
  for (const file of files) {
    const s = scenarioFromEpisode(await setBudget.readJson(file, budget), file);
    setBudget.count(s, file);
    const other = byId.get(s.id);
    if (other !== undefined) {
      throw new UserError(`${file}: episode_id: "${s.id}" is also ${other}'s episode_id`);
    }
    byId.set(s.id, file);
    scenarios.push(s);
  }
  return { scenarios, sources: files };
}

/**
 * Runs `scenarios`; returns the exit code. Everything is read, made and checked before
 * the first file is written.
 *
 * @example
 * ```ts ignore
 * await runScenarios(["--from-episodes", "logs/", "--out-dir", "out/log_set"]);
 * ```
 */
export async function runScenarios(args: string[]): Promise<number> {
  const { values } = parseFlags("scenarios", args, OPTIONS);
  if (values.help) {
    console.log(scenariosHelp());
    return 0;
  }
  const outDir = values["out-dir"];
  if (typeof outDir !== "string" || outDir.trim() === "") {
    throw new UserError("scenarios: --out-dir DIR is required (see --help)");
  }
  const episodes = values["from-episodes"];
  let made: Made;
  if (typeof episodes === "string") {
    for (const flag of ["env", "count", "seed", "config"]) {
      if (values[flag] !== undefined) {
        throw new UserError(`--from-episodes: cannot be combined with --${flag}`);
      }
    }
    made = await fromEpisodes(episodes);
  } else {
    made = seededScenarios(values);
  }
  const paths = await writeScenarioSet(outDir, { ...made, overwrite: values.overwrite === true });
  if (!values.quiet) console.error(`scenarios: wrote ${paths.length} scenario files to ${outDir}`);
  return 0;
}

function seededScenarios(values: Record<string, unknown>): Made {
  if (values.env !== "traffic") {
    throw new UserError(
      `scenarios: --env traffic (seeded scenarios) or --from-episodes DIR is required, got ${
        values.env === undefined ? "neither" : `--env ${String(values.env)}`
      }`,
    );
  }
  const count = typeof values.count === "string"
    ? parseNumber(values.count, { flag: "--count", kind: "int", lo: 1, hi: MAX_SET_FILES })
    : 100;
  const first = typeof values.seed === "string"
    ? parseNumber(values.seed, { flag: "--seed", kind: "int", lo: 0, hi: 2 ** 32 - count })
    : 0;
  const last = first + count - 1;
  if (first < HELDOUT_SEED_BASE && last >= HELDOUT_SEED_BASE) {
    throw new UserError(
      `--seed ${first} --count ${count}: seeds ${first}..${last} straddle ${HELDOUT_SEED_BASE}; a set is either for training (all seeds below) or held out (all from there on)`,
    );
  }
  const env = { ...TRAFFIC_ENV_DEFAULTS }, traffic = { ...DEFAULT_TRAFFIC_CONFIG };
  if (typeof values.config === "string") {
    applyConfigFile(values.config, { env, traffic }, {
      ignore: ["out_dir", "sft_model", "env_name", "ppo"],
    });
  }
  try {
    validateEnvConfig(env);
    validateTrafficConfig(traffic);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  const scenarios: Scenario[] = [], sources: string[] = [];
  for (let seed = first; seed <= last; seed++) {
    // the generator's output goes through the same checks as a file
    scenarios.push(checkScenario(generateScenario(seed, { env, traffic }), `seed ${seed}`));
    sources.push(`seed ${seed}`);
  }
  return { scenarios, sources };
}
