/**
 * `eval --policy DIR` for a multi-seed folder: each finished seed's `final.pt` is a
 * policy of its own, and the table gets a row with their mean.
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../errors.ts";
import type { EvalDocument, EvalSummary } from "../run/mod.ts";
import { isMultiSeedDir, seedFolders } from "./seed_dirs.ts";

/** The seeds' checkpoints a multi-seed `--policy` folder stands for. */
export interface SeedGroup {
  /** The folder as given. */
  dir: string;
  /** `<dir>/seed_N/final.pt` of each finished seed, by seed. */
  policies: string[];
}

/**
 * Replaces each multi-seed folder among the `--policy` values by its seeds'
 * `final.pt` files (seeds without one are skipped with a warning).
 *
 * @example
 * ```ts ignore
 * const { names, groups } = expandSeedPolicies(["sft", "out/seeds"]);
 * // names: ["sft", "out/seeds/seed_1/final.pt", ...]
 * ```
 */
export function expandSeedPolicies(
  names: string[],
  options: { warn?: (line: string) => void } = {},
): { names: string[]; groups: SeedGroup[] } {
  const warn = options.warn ?? ((line: string) => console.error(line));
  const out: string[] = [];
  const groups: SeedGroup[] = [];
  for (const name of names) {
    if (name === "sft" || name === "expert" || !isMultiSeedDir(name)) {
      out.push(name);
      continue;
    }
    const policies: string[] = [];
    for (const { seed, path } of seedFolders(name)) {
      const final = join(path, "final.pt");
      try {
        Deno.statSync(final);
        policies.push(final);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        warn(`eval: ${name}: seed ${seed} has no final.pt (unfinished); skipped`);
      }
    }
    if (policies.length === 0) {
      throw new UserError(`--policy ${name}: no seed_N/final.pt in this multi-seed folder`);
    }
    out.push(...policies);
    groups.push({ dir: name, policies });
  }
  return { names: out, groups };
}

/**
 * One extra table row per group: every summary number averaged over the group's seeds.
 *
 * @example
 * ```ts ignore
 * console.log(formatTable([...docs, ...seedMeanDocs(docs, groups)], firstSeed, count));
 * ```
 */
export function seedMeanDocs(docs: EvalDocument[], groups: SeedGroup[]): EvalDocument[] {
  return groups.map((g) => {
    const members = g.policies.map((p) => docs.find((d) => d.policy.name === p)!);
    const summary = { ...members[0].summary } as unknown as Record<string, number>;
    for (const key of Object.keys(summary)) {
      summary[key] = members.reduce(
        (s, d) => s + (d.summary as unknown as Record<string, number>)[key],
        0,
      ) / members.length;
    }
    return {
      ...members[0],
      run_id: g.dir,
      policy: { name: `${g.dir} (mean of ${members.length} seeds)` },
      scenarios: [],
      summary: summary as unknown as EvalSummary,
    };
  });
}
