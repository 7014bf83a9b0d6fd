/**
 * `eval`: roll out one or more policies on the same seeded episodes and report them side
 * by side: the env's base policy alone (its SFT planner, a planner file, or zero), the
 * env's other planners (the expert), or the base policy + the delta head of a checkpoint.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import { Rng } from "../math/mod.ts";
import { checkSettings, defaultSettings, EnvPool, HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { BasePlanner, EnvDefinition, EnvSettings, EpisodeMetric, VecEnv } from "../env/mod.ts";
import type { ActorCritic } from "../nn/mod.ts";
import { applyConfigFile, loadYamlParserFor, writeFileAtomic } from "../io/mod.ts";
import {
  checkCommandLineOnly,
  checkpointEnvName,
  checkpointPpoConfig,
  checkpointSettings,
  evalDocument,
  evaluateHere,
  modelFromCheckpoint,
  namedPlanner,
  plannerFromFile,
  readTrainerCheckpoint,
  runBasePlanner,
} from "../run/mod.ts";
import type { EnvWithSettings, EvalDocument, LoadedCheckpoint, ScenarioSet } from "../run/mod.ts";
import { expandSeedPolicies, seedMeanDocs } from "../sweep/mod.ts";
import type { SeedGroup } from "../sweep/mod.ts";
import { parseNumber } from "./_flags.ts";
import { applyEnvFlags, envFlagOptions, parseEnvCommand } from "./_env_flags.ts";
import { chooseEnv, ENV_CHOICE_OPTIONS, peekEnvFlags } from "./_env_choice.ts";
import { evalScenarios, SCENARIOS_OPTION } from "./_scenario_flags.ts";
import { formatTable } from "./_eval_table.ts";
import { evalHelp } from "./_eval_help.ts";
import { runFolderPolicies } from "./_policy_paths.ts";

export { evalHelp } from "./_eval_help.ts";

function evalOptions(def: EnvDefinition) {
  return {
    policy: { type: "string", multiple: true },
    "sft-model": { type: "string" },
    episodes: { type: "string" },
    seed: { type: "string" },
    stochastic: { type: "boolean" },
    best: { type: "boolean" },
    json: { type: "boolean" },
    output: { type: "string" },
    overwrite: { type: "boolean" },
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...envFlagOptions(def),
    ...ENV_CHOICE_OPTIONS,
    ...SCENARIOS_OPTION,
  } as const;
}

/**
 * Runs `eval`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * await runEval(["--policy", "sft", "--policy", "out/run/final.pt", "--episodes", "50"]);
 * ```
 */
export async function runEval(args: string[]): Promise<number> {
  await loadYamlParserFor(args);
  const peeked = peekEnvFlags(args);
  const seedGroups = expandSeedPolicies(peekPolicies(args) ?? ["sft"]);
  const { names, groups } = runFolderPolicies(seedGroups, args.includes("--best"));
  // Checkpoints first: the env they were trained on is the default one.
  const checkpoints = new Map<string, LoadedCheckpoint>();
  for (const name of names) {
    if (!isPlannerName(name)) checkpoints.set(name, await readTrainerCheckpoint(name));
  }
  const first = [...checkpoints.values()][0];
  const recorded = first && { name: checkpointEnvName(first), where: `--policy ${first.source}` };
  const env = await chooseEnv(peeked, recorded);
  const def = env.definition;
  const { values, positionals } = parseEnvCommand("eval", args, {
    options: evalOptions(def),
    def,
    positionals: true,
  });
  if (values.help) {
    console.log(evalHelp(def));
    return 0;
  }
  if (positionals.length > 0) {
    throw new UserError(
      `eval: unexpected argument '${positionals[0]}' (policies go after --policy)`,
    );
  }
  for (const [name, ckpt] of checkpoints) {
    if (checkpointEnvName(ckpt) !== def.id) {
      throw new UserError(
        `--policy ${name}: trained on ${checkpointEnvName(ckpt)}, evaluated on --env ${def.id}`,
      );
    }
  }
  const asked = evalFlags(values, names, groups);
  const settings = evalSettings(values, { def, first });
  const pool = new EnvPool(def, settings);
  try {
    return await evaluateAll({
      values,
      asked,
      checkpoints,
      env: { definition: def, settings },
      pool,
    });
  } finally {
    await pool.close();
  }
}

// The values of --policy in `args`, before the strict parse (undefined without one).
function peekPolicies(args: string[]): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--policy" && i + 1 < args.length) out.push(args[++i]);
    else if (args[i].startsWith("--policy=")) out.push(args[i].slice("--policy=".length));
  }
  return out.length > 0 ? out : undefined;
}

// A planner's name (sft, base, expert, ...) rather than a checkpoint's path: a lower-case
// word that is not a file here.
function isPlannerName(name: string): boolean {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) return false;
  try {
    Deno.statSync(name);
    return false;
  } catch {
    return true;
  }
}

type Values = Record<string, unknown>;

interface Asked {
  names: string[];
  groups: SeedGroup[];
  count: number;
  firstSeed: number;
  output: string | null;
}

// What the flags ask for besides the environment: the seeds and the --output file.
function evalFlags(values: Values, names: string[], groups: SeedGroup[]): Asked {
  const count = typeof values.episodes === "string"
    ? parseNumber(values.episodes, { flag: "--episodes", kind: "int", lo: 1, hi: 1e6 })
    : 100;
  const firstSeed = typeof values.seed === "string"
    ? parseNumber(values.seed, { flag: "--seed", kind: "int", lo: 0, hi: 2 ** 32 - count })
    : HELDOUT_SEED_BASE;
  const output = typeof values.output === "string" ? values.output : null;
  if (output !== null && !values.overwrite) {
    try {
      Deno.statSync(output);
      throw new UserError(`--output ${output}: exists; pass --overwrite to replace it`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { names, groups, count, firstSeed, output };
}

// The env's settings the policies are evaluated with: those the first checkpoint
// recorded, else the env's defaults; then --config and the flags, checked.
function evalSettings(
  values: Values,
  opts: { def: EnvDefinition; first: LoadedCheckpoint | undefined },
): EnvSettings {
  const { def, first } = opts;
  const settings =
    (first ? structuredClone(checkpointSettings(first, def)) : defaultSettings(def)) as Record<
      string,
      Record<string, unknown>
    >;
  if (typeof values.config === "string") {
    applyConfigFile(values.config, settings, {
      ignore: ["out_dir", "sft_model", "ppo", "sft", "env_name"],
      expect: { env_name: def.id },
    });
    checkCommandLineOnly(def, { recorded: settings.env, where: `--config ${values.config}: env` });
  }
  applyEnvFlags(settings, { def, values });
  try {
    checkSettings(def, settings);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  return settings;
}

// One policy to evaluate: its names in the document, its base planner and delta head.
interface PolicySpec {
  name: string;
  checkpoint: string | null;
  sftModel: string | null;
  runId: string;
  planner: BasePlanner;
  model: ActorCritic | null;
  deltaClip: number;
}

// Every policy on the same episodes (seeds, or a scenario set): the table or JSON, and
// the --output file.
async function evaluateAll(o: {
  values: Values;
  asked: Asked;
  checkpoints: Map<string, LoadedCheckpoint>;
  env: EnvWithSettings;
  pool: EnvPool;
}): Promise<number> {
  const { values, asked, checkpoints, env, pool } = o;
  const extras = new Map([...checkpoints].map(([name, ckpt]) => [name, ckpt.extra]));
  const set = await evalScenarios(values, { def: env.definition, checkpoints: extras });
  const [firstSeed, count] = set ? [0, set.scenarios.length] : [asked.firstSeed, asked.count];
  const makeEnv = set ? (n: number) => set.support.make(env.settings, n, set.scenarios) : pool.make;
  const probe = pool.make(1);
  const specs = await policySpecs(asked.names, { values, checkpoints, env, probe });
  const episodes = { makeEnv, firstSeed, count, set };
  const { docs, metrics } = await rollOut(specs, {
    episodes,
    stochastic: values.stochastic === true,
  });
  const payload = docs.length === 1 ? docs[0] : docs;
  if (asked.output !== null) {
    await writeFileAtomic(asked.output, JSON.stringify(payload, null, 2) + "\n");
  }
  if (values.json) console.log(JSON.stringify(payload, null, 2));
  else {
    console.log(
      formatTable([...docs, ...seedMeanDocs(docs, asked.groups)], {
        ...{ firstSeed, count, metrics, actionUnit: env.definition.actionUnit },
        hasSuccess: probe.success !== undefined,
        played: set ? `the scenario files of ${set.dir}` : undefined,
      }),
    );
  }
  return 0;
}

// Each --policy's planner and delta head, in the order given.
async function policySpecs(names: string[], opts: {
  values: Values;
  checkpoints: Map<string, LoadedCheckpoint>;
  env: EnvWithSettings;
  probe: { obsDim: number; actionDim: number; actionShape?: readonly number[] };
}): Promise<PolicySpec[]> {
  const { env, probe } = opts;
  const def = env.definition;
  const sftFlag = typeof opts.values["sft-model"] === "string" ? opts.values["sft-model"] : null;
  const bases = new Map<string, BasePlanner>();
  const base = async (file: string | null) => {
    const key = file ?? "";
    if (!bases.has(key)) {
      bases.set(
        key,
        file === null
          ? await runBasePlanner(env, { sftModel: null, probe })
          : await plannerFromFile(file, env),
      );
    }
    return bases.get(key)!;
  };
  const specs: PolicySpec[] = [];
  for (const name of names) {
    const ckpt = opts.checkpoints.get(name);
    const common = { name, model: null, deltaClip: 0, sftModel: null };
    if (ckpt === undefined && (name === "sft" || name === "base")) {
      specs.push({ ...common, checkpoint: sftFlag, runId: name, planner: await base(sftFlag) });
    } else if (ckpt === undefined) {
      const planner = namedPlanner(name, env);
      if (!planner) {
        throw new UserError(
          `--policy ${name}: not a planner of --env ${def.id} (${
            ["sft", ...Object.keys(def.planners ?? {}).filter((p) => p !== "sft")].join(", ")
          }) nor a checkpoint file`,
        );
      }
      specs.push({ ...common, checkpoint: null, runId: name, planner });
    } else {
      const recorded = typeof ckpt.extra.sft_model === "string" ? ckpt.extra.sft_model : null;
      // the recorded configuration, checked: a delta_clip of -5 or NaN is refused
      const settings = checkpointSettings(ckpt, def);
      const clip = checkpointPpoConfig(ckpt, { definition: def, settings }).delta_clip;
      const actionShape = probe.actionShape ?? [probe.actionDim];
      specs.push({
        name,
        checkpoint: name,
        sftModel: sftFlag ?? recorded,
        runId: runIdOf(name),
        planner: await base(sftFlag ?? recorded),
        model: modelFromCheckpoint(ckpt, probe.obsDim, { actionShape }),
        deltaClip: clip,
      });
    }
  }
  return specs;
}

// Every policy on the same episodes: one document each, and the env's metrics.
async function rollOut(
  specs: PolicySpec[],
  opts: {
    episodes: {
      makeEnv: (n: number) => VecEnv;
      firstSeed: number;
      count: number;
      set: ScenarioSet | null;
    };
    stochastic: boolean;
  },
): Promise<{ docs: EvalDocument[]; metrics: readonly EpisodeMetric[] }> {
  const { makeEnv, firstSeed, count, set } = opts.episodes;
  let metrics: readonly EpisodeMetric[] = [];
  const docs: EvalDocument[] = [];
  for (const [i, spec] of specs.entries()) {
    const stochastic = opts.stochastic && spec.model !== null;
    const result = (await evaluateHere({
      makeEnv,
      planner: spec.planner,
      model: spec.model,
      deltaClip: spec.deltaClip,
      firstSeed,
      count,
      sampleRng: stochastic ? new Rng(firstSeed + 7919 * i) : undefined,
    }, { shouldStop: () => false }))!;
    metrics = result.metrics;
    if (set) {
      result.scenarios.forEach((r, k) => (r.scenario_id = set.support.id(set.scenarios[k])));
    }
    const policy = {
      name: spec.name,
      ...(spec.checkpoint !== null ? { checkpoint: spec.checkpoint } : {}),
      ...(spec.sftModel !== null ? { sft_model: spec.sftModel } : {}),
    };
    docs.push(evalDocument(result, { runId: spec.runId, policy, firstSeed, count, stochastic }));
  }
  return { docs, metrics };
}

// A checkpoint's run: the folder that holds it (or holds its checkpoints/ folder), and the file.
function runIdOf(path: string): string {
  const dir = dirname(path);
  const run = basename(dir) === "checkpoints" ? basename(dirname(dir)) : basename(dir);
  return `${run}/${basename(path, ".pt")}`;
}
