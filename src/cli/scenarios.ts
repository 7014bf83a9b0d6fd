/**
 * `scenarios`: write a scenario set (a folder of scenario files of an env that plays
 * them, `docs/scenario_format.md`), either seeded from the env's generator or converted
 * from logged episodes.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { BUILTIN_ENVS, checkSettings, defaultSettings, HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { EnvDefinition, ScenarioSupport } from "../env/mod.ts";
import { applyConfigFile, loadYamlParserFor, readBoundedJson } from "../io/mod.ts";
import { parseFlags, parseNumber } from "./_flags.ts";
import { listJsonFiles, MAX_SET_FILES, scenarioSupport, writeScenarioSet } from "../run/mod.ts";
import { chooseEnv } from "./_env_choice.ts";

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
    "Usage: delta-waypoint scenarios --env ID --count N --seed S --out-dir DIR",
    "       delta-waypoint scenarios [--env ID] --from-episodes DIR --out-dir OUT",
    "",
    "Write a scenario set: one scenario file (JSON, docs/scenario_format.md) per scenario,",
    "for train --scenarios and eval --scenarios.",
    "",
    "Flags:",
    `  --env ID               the env whose scenarios are written (${
      scenarioEnvs().map((d) => d.id).join(", ")
    })`,
    "  --count N              scenarios, seeds S..S+N-1 (default 100)",
    `  --seed S               first seed (default 0); a set is a training set (every seed below`,
    `                         ${HELDOUT_SEED_BASE}) or a held-out one (every seed from there on)`,
    "  --config FILE          JSON or YAML of the env's sections they are generated for (a run's",
    "                         config.json; default: the env's defaults)",
    "  --from-episodes DIR    convert the logged episodes (*.json, the research repo's episode",
    "                         JSON) in DIR instead: one scenario each, the ego's path as route",
    "                         and ADE/FDE reference, logged agents as replayed vehicles (default",
    "                         --env: the built-in env that converts them)",
    "  --out-dir DIR          the folder written (required)",
    "  --overwrite            replace the scenario set already in --out-dir",
    "  --quiet                no progress output",
    "  -h, --help             this help",
  ].join("\n");
}

/** Scenarios with where each came from (an episode file, a seed), for messages. */
interface Made {
  scenarios: unknown[];
  sources: string[];
}

// The built-in envs that play scenario files.
function scenarioEnvs(): EnvDefinition[] {
  return BUILTIN_ENVS.filter((d) => d.scenarios !== undefined);
}

async function fromEpisodes(dir: string, support: ScenarioSupport): Promise<Made> {
  const convert = support.fromEpisodes;
  if (!convert) throw new UserError("--from-episodes: the env converts no logged episodes");
  const files = listJsonFiles(dir, `--from-episodes ${dir}`);
  if (files.length === 0) {
    throw new UserError(`--from-episodes ${dir}: holds no episode files (*.json)`);
  }
  const budget = { ...convert.budget, what: "an episode file" };
  const scenarios: unknown[] = [];
  const byId = new Map<string, string>();
  for (const file of files) {
    const s = convert.convert(await readBoundedJson(file, budget), file);
    const id = support.id(s);
    const other = byId.get(id);
    if (other !== undefined) {
      throw new UserError(`${file}: episode_id: "${id}" is also ${other}'s episode_id`);
    }
    byId.set(id, file);
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
  await loadYamlParserFor(args);
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
  const def = await scenariosEnv(values, typeof episodes === "string");
  const support = scenarioSupport(def, "scenarios");
  let made: Made;
  if (typeof episodes === "string") {
    for (const flag of ["count", "seed", "config"]) {
      if (values[flag] !== undefined) {
        throw new UserError(`--from-episodes: cannot be combined with --${flag}`);
      }
    }
    made = await fromEpisodes(episodes, support);
  } else {
    made = seededScenarios(values, def);
  }
  const paths = await writeScenarioSet(outDir, {
    support,
    ...made,
    overwrite: values.overwrite === true,
  });
  if (!values.quiet) console.error(`scenarios: wrote ${paths.length} scenario files to ${outDir}`);
  return 0;
}

// The env of the scenarios: --env (required for seeded ones), else the one built-in env
// that converts logged episodes.
async function scenariosEnv(
  values: Record<string, unknown>,
  fromEpisodes: boolean,
): Promise<EnvDefinition> {
  if (values.env !== undefined) return (await chooseEnv({ env: values.env })).definition;
  const converters = scenarioEnvs().filter((d) => d.scenarios!.fromEpisodes !== undefined);
  if (fromEpisodes && converters.length === 1) return converters[0];
  throw new UserError(
    `scenarios: --env ID (seeded scenarios: ${
      scenarioEnvs().map((d) => d.id).join(", ")
    }) or --from-episodes DIR is required, got neither`,
  );
}

function seededScenarios(values: Record<string, unknown>, def: EnvDefinition): Made {
  const support = scenarioSupport(def, `--env ${def.id}`);
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
  const settings = defaultSettings(def);
  if (typeof values.config === "string") {
    applyConfigFile(values.config, settings, {
      ignore: ["out_dir", "sft_model", "env_name", "ppo"],
      expect: { env_name: def.id },
    });
  }
  try {
    checkSettings(def, settings);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  const scenarios: unknown[] = [], sources: string[] = [];
  for (let seed = first; seed <= last; seed++) {
    // the generator's output goes through the same checks as a file
    scenarios.push(support.check(support.generate(seed, settings), `seed ${seed}`));
    sources.push(`seed ${seed}`);
  }
  return { scenarios, sources };
}
