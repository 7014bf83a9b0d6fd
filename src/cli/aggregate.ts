/**
 * `aggregate`: the summary of a multi-seed folder (`train --seeds`, or the emitted
 * Slurm / Kubernetes / Ray jobs): each finished seed's held-out results, and across
 * seeds mean, standard deviation, interquartile mean and 95% bootstrap intervals.
 * Written to `summary.json` and printed as a table; seeds that have not finished are
 * listed as missing, with the reason. The summary is built and formatted in `sweep/`
 * (`summary.ts`, `table.ts`).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import {
  DEFAULT_INTERVAL_METHOD,
  formatSummary,
  readManifest,
  seedFolders,
  SUMMARY_FILE,
  writeSummary,
} from "../sweep/mod.ts";
import { parseFlags } from "./_flags.ts";

const OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * `aggregate --help`.
 *
 * @example
 * ```ts
 * console.log(aggregateHelp());
 * ```
 */
export function aggregateHelp(): string {
  return [
    "Usage: delta-waypoint aggregate DIR [--json]",
    "",
    "Summarise a multi-seed folder (train --seeds, or the jobs of train --emit): each finished",
    "seed_N/'s held-out return and success rate, the env's headline metrics measured on its",
    "base policy too (env.json), and where the env has an expert the share of the",
    "SFT-to-expert return gap closed; across seeds the mean, standard deviation,",
    "interquartile mean and 95% percentile bootstrap intervals",
    `(${DEFAULT_INTERVAL_METHOD.samples} resamples, fixed seed). Seeds that have not finished are listed`,
    "as missing. Writes DIR/summary.json and prints a table.",
    "",
    "Flags:",
    "  --json       print summary.json instead of the table",
    "  -h, --help   this help",
  ].join("\n");
}

/**
 * Runs `aggregate`; returns the exit code (0 even when seeds are missing: the summary
 * says which).
 *
 * @example
 * ```ts ignore
 * await runAggregate(["out/seeds"]);
 * ```
 */
export async function runAggregate(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("aggregate", args, OPTIONS, true);
  if (values.help) {
    console.log(aggregateHelp());
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `aggregate: expected one multi-seed folder, got ${positionals.length} (see --help)`,
    );
  }
  const dir = positionals[0];
  try {
    if (!Deno.statSync(dir).isDirectory) throw new UserError(`aggregate: ${dir}: not a folder`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`aggregate: ${dir}: not found`);
    throw e;
  }
  if (readManifest(dir) === null && seedFolders(dir).length === 0) {
    throw new UserError(
      `aggregate: ${
        resolve(dir)
      } holds no seed_N/ folders and no seeds.json (is it a multi-seed folder?)`,
    );
  }
  const summary = await writeSummary(dir);
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatSummary(summary));
  console.error(`aggregate: wrote ${join(dir, SUMMARY_FILE)}`);
  return 0;
}
