/**
 * The scenario sets of `train --scenarios DIR` and `eval --scenarios DIR` (envs whose
 * entry plays scenario files): reading the set for a run, and keeping training and
 * held-out sets apart. A training set holds no generated scenario of a held-out seed
 * (from `HELDOUT_SEED_BASE` on); a run records the content fingerprint of every scenario
 * it trained on in its checkpoints (`train_scenarios`), and `eval --scenarios` refuses a
 * set holding any of them for that run's policy.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { EnvDefinition, EnvSettings, ScenarioSupport, VecEnv } from "../env/mod.ts";
import type { ResumePoint } from "./resume.ts";
import { readScenarioSet } from "./scenario_sets.ts";
import type { ScenarioSet } from "./scenario_sets.ts";

/** What a checkpoint records of the set it was trained on (`train_scenarios`). */
export interface TrainScenariosRecord {
  /** The folder, as given. */
  dir: string;
  /** Files in it. */
  count: number;
  /** {@linkcode scenarioDigest} of each, in file order. */
  digests: string[];
}

/** What `train` takes from `--scenarios`: the env training plays, and what checkpoints record. */
export interface TrainScenarios {
  /** Builds the env of the set's scenarios (undefined without a set: the run's env). */
  makeTrainEnv?: (numEnvs: number) => VecEnv;
  /** `{train_scenarios: TrainScenariosRecord}`, or nothing without a set. */
  extra: { train_scenarios?: TrainScenariosRecord };
}

/** The generated scenarios of held-out seeds in `set`, as `file: seed`. */
function heldoutSeeds(set: ScenarioSet): { file: string; seed: number }[] {
  return set.scenarios.flatMap((s, i) => {
    const seed = set.support.generatedSeed(s);
    return seed !== null && seed >= HELDOUT_SEED_BASE ? [{ file: set.files[i], seed }] : [];
  });
}

async function digests(set: ScenarioSet): Promise<string[]> {
  return await Promise.all(set.scenarios.map((s) => set.support.digest(s)));
}

/**
 * The scenario files of env `def`, or a one-line refusal naming `flag` for an env that
 * plays none.
 *
 * @example
 * ```ts ignore
 * const support = scenarioSupport(definition, "--scenarios");
 * ```
 */
export function scenarioSupport(def: EnvDefinition, flag: string): ScenarioSupport {
  if (!def.scenarios) throw new UserError(`${flag}: --env ${def.id} plays no scenario files`);
  return def.scenarios;
}

// The checkpoint `file`'s record of its training set: null when it has none; a bad one is refused.
function recordOf(
  extra: Record<string, unknown> | undefined,
  file: string,
): TrainScenariosRecord | null {
  const r = extra?.train_scenarios;
  if (r === undefined || r === null) return null;
  const ok = typeof r === "object" && "dir" in r && typeof r.dir === "string" &&
    "digests" in r && Array.isArray(r.digests) &&
    r.digests.every((d) => typeof d === "string" && /^[0-9a-f]{16}$/.test(d));
  if (!ok) {
    throw new UserError(
      `${file}: train_scenarios: expected {dir, count, digests} with 16-hex-digit digests`,
    );
  }
  const { dir, digests } = r as { dir: string; digests: string[] };
  return { dir, count: digests.length, digests };
}

/**
 * The scenario set `train --scenarios DIR` trains on (`given`: DIR, or null without the
 * flag; then none, unless the resumed checkpoint `point` trained on one: then its
 * recorded folder, which must still hold the same scenarios in the same order). Only
 * for an env that plays scenario files; a generated scenario of a held-out seed is
 * refused.
 *
 * @example
 * ```ts ignore
 * const { makeTrainEnv, extra } = await trainScenarios("out/set", { definition, settings, point: null });
 * ```
 */
export async function trainScenarios(
  given: string | null,
  opts: { definition: EnvDefinition; settings: EnvSettings; point: ResumePoint | null },
): Promise<TrainScenarios> {
  const recorded = opts.point ? recordOf(opts.point.ckpt.extra, opts.point.path) : null;
  if (given !== null && given.trim() === "") throw new UserError("--scenarios: must not be empty");
  const dir = given ?? recorded?.dir ?? null;
  if (dir === null) return { extra: {} };
  const support = scenarioSupport(opts.definition, "--scenarios");
  // without --scenarios, the folder the resumed checkpoint recorded: messages say so
  const what = given !== null
    ? `--scenarios ${dir}`
    : `--resume ${opts.point!.path}: its scenario set ${dir}`;
  const set = await readScenarioSet(dir, { flag: "--scenarios", support }).catch((e) => {
    if (
      given !== null || !(e instanceof UserError) || !e.message.startsWith(`--scenarios ${dir}: `)
    ) throw e;
    const problem = e.message.slice(`--scenarios ${dir}: `.length);
    throw new UserError(`${what}: ${problem} (pass --scenarios DIR where the set is now)`);
  });
  const reserved = heldoutSeeds(set);
  if (reserved.length > 0) {
    throw new UserError(
      `${reserved[0].file}: metadata.seed: ${
        reserved[0].seed
      } is a held-out seed (from ${HELDOUT_SEED_BASE} on); a training set's generated scenarios have seeds below it`,
    );
  }
  const record = { dir, count: set.scenarios.length, digests: await digests(set) };
  if (recorded !== null && recorded.digests.join() !== record.digests.join()) {
    throw new UserError(
      `${what}: not the scenario set the resumed run trained on (${recorded.count} files from ${recorded.dir}, same content in the same order)`,
    );
  }
  const { settings } = opts;
  return {
    makeTrainEnv: (n) => support.make(settings, n, set.scenarios),
    extra: { train_scenarios: record },
  };
}

/**
 * The held-out scenario set in `dir` that `eval --scenarios DIR` evaluates on, refused
 * when it holds a scenario one of the evaluated checkpoints (`checkpoints`: policy name
 * to the checkpoint's extra keys) was trained on.
 *
 * @example
 * ```ts ignore
 * const set = await heldoutScenarios("out/heldout", { support, checkpoints: new Map([[name, ckpt.extra]]) });
 * ```
 */
export async function heldoutScenarios(
  dir: string,
  opts: { support: ScenarioSupport; checkpoints: Map<string, Record<string, unknown>> },
): Promise<ScenarioSet> {
  const set = await readScenarioSet(dir, { flag: "--scenarios", support: opts.support });
  const ours = await digests(set);
  for (const [policy, extra] of opts.checkpoints) {
    const trained = new Set(recordOf(extra, policy)?.digests ?? []);
    const i = ours.findIndex((d) => trained.has(d));
    if (i >= 0) {
      throw new UserError(
        `--scenarios ${dir}: ${
          set.files[i]
        } is a scenario --policy ${policy} was trained on (same content as one of its training set's); a held-out set must not overlap it`,
      );
    }
  }
  return set;
}
