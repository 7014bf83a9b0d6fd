/**
 * `report`: charts of a finished (or running) training run, written next to its
 * metrics as `report.svg` and a standalone `report.html`.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/mod.ts";
import { renderReportHtml, renderReportSvg } from "../report/mod.ts";
import type { ReportEnv, RunReportData } from "../report/mod.ts";
import { parseFlags } from "./_flags.ts";
import { isRate, loggedMetrics, metricLabel } from "../run/mod.ts";
import type { EnvRecord } from "../run/mod.ts";
import { expertNumbers, readEpisodesFile } from "./_report_inputs.ts";
import {
  isMultiSeedDir,
  readJsonFile as readRunJson,
  readRunEnv,
  seedFolders,
  writeSeedsReport,
} from "../sweep/mod.ts";

const OPTIONS = {
  help: { type: "boolean", short: "h" },
} as const;

/**
 * `report --help`.
 *
 * @example
 * ```ts
 * console.log(reportHelp());
 * ```
 */
export function reportHelp(): string {
  return [
    "Usage: delta-waypoint report RUN_DIR",
    "",
    "For a multi-seed folder (train --seeds): the mean curves across seeds with a band of",
    "± 1 standard deviation, and the held-out results table of `aggregate`.",
    "",
    "Chart a run folder's metrics.json (required) and train_metrics.json (optional):",
    "training return, held-out return and success rate against the base policy and the",
    "expert (evaluated here on the run's seeds, for a built-in env only), the metrics the env",
    "declares (env.json; for older folders the built-in env config.json names), the held-out",
    "return per episode, approx KL and clip fraction, entropy, delta norm; panels without data",
    "are left out. With episodes.json (written by train): a few held-out episodes of both",
    "policies drawn from above, one animated. Never loads an env module nor starts a worker.",
    "Writes RUN_DIR/report.svg and RUN_DIR/report.html (standalone, no external resources).",
    "",
    "Flags:",
    "  -h, --help   this help",
  ].join("\n");
}

/** The files {@linkcode writeReport} wrote. */
export interface ReportPaths {
  /** `<runDir>/report.svg`. */
  svg: string;
  /** `<runDir>/report.html`, standalone (no external resources). */
  html: string;
}

/**
 * Reads the run folder `runDir` and writes its `report.svg` and `report.html`
 * atomically; a missing or malformed `metrics.json` is a {@linkcode UserError}.
 *
 * @example
 * ```ts ignore
 * const { svg, html } = await writeReport("out/rl_delta_waypoint_v0/run_001");
 * ```
 */
export async function writeReport(
  runDir: string,
  options: { warn?: (line: string) => void } = {},
): Promise<ReportPaths> {
  const warn = options.warn ?? ((line: string) => console.error(line));
  const data = readRun(runDir, warn);
  const svg = renderReportSvg(data);
  const html = renderReportHtml(data, svg);
  const paths = { svg: join(runDir, "report.svg"), html: join(runDir, "report.html") };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.html, html);
  return paths;
}

/**
 * Runs `report` with command-line `args`; returns the process exit code.
 *
 * @example
 * ```ts ignore
 * const code = await runReport(["out/rl_delta_waypoint_v0/run_001"]);
 * ```
 */
export async function runReport(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("report", args, OPTIONS, true);
  if (values.help) {
    console.log(reportHelp());
    return 0;
  }
  if (positionals.length !== 1) {
    const got = positionals.length === 0
      ? "none"
      : `${positionals.length}: ${positionals.join(" ")}`;
    throw new UserError(`report: expected one run folder, got ${got} (see --help)`);
  }
  const dir = positionals[0];
  // A multi-seed folder (train --seeds): mean curves across its seeds.
  const paths = isMultiSeedDir(dir)
    ? await writeSeedsReport(dir, seedsEnv(dir))
    : await writeReport(dir);
  console.error(`report: wrote ${paths.svg}`);
  console.error(`report: wrote ${paths.html}`);
  return 0;
}

function readRun(runDir: string, warn: (line: string) => void): RunReportData {
  const metricsPath = join(runDir, "metrics.json");
  const metrics = readJsonFile(metricsPath);
  if (metrics === undefined) {
    throw new UserError(`report: ${metricsPath}: not found (is ${runDir} a run folder?)`);
  }
  if (!Array.isArray(metrics)) {
    throw new UserError(`report: ${metricsPath}: expected a JSON list of metrics entries`);
  }
  // train_metrics.json is written at the end of a run: without it the report still works.
  const trainPath = join(runDir, "train_metrics.json");
  let trainMetrics: unknown = null;
  try {
    trainMetrics = readJsonFile(trainPath) ?? null;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    warn(`${e.message}; skipped`);
  }
  if (trainMetrics !== null && (typeof trainMetrics !== "object" || Array.isArray(trainMetrics))) {
    warn(`report: ${trainPath}: expected a JSON object; skipped`);
    trainMetrics = null;
  }
  const runEnv = readRunEnv(runDir);
  const env = "record" in runEnv ? reportEnv(runEnv.record) : undefined;
  const episodes = readEpisodesFile(runDir, { trainMetrics, warn });
  const expert = "record" in runEnv ? expertNumbers(runEnv, trainMetrics) : {};
  return {
    name: basename(resolve(runDir)),
    metrics,
    trainMetrics,
    ...(env ? { env } : {}),
    ...(expert.interval || expert.final ? { expert } : {}),
    ...(episodes ? { episodes } : {}),
  };
}

// The run's env as its files describe it (env.json, or the built-in env config.json
// names): its logged metrics and its base policy's name; undefined when they cannot say.
function reportEnvOf(runDir: string): ReportEnv | undefined {
  const env = readRunEnv(runDir);
  return "record" in env ? reportEnv(env.record) : undefined;
}

// The report's wording and metrics of an env record.
function reportEnv(record: EnvRecord): ReportEnv {
  const sft = record.base_policy === "sft";
  const unit = record.action_unit;
  return {
    name: record.id,
    base: sft ? "SFT planner" : "zero base policy",
    refined: sft ? "SFT + delta" : "PPO policy",
    deltaLabel: unit ? `|delta| (${unit})` : "|delta|",
    hasSuccess: record.has_success,
    metrics: loggedMetrics(record.metrics).map((m) => ({
      key: m.name,
      mean: m.mean!,
      label: metricLabel({ name: m.name }),
      ...(m.unit ? { unit: m.unit } : {}),
      base: m.headline!.baseline === true,
      rate: isRate(m.mean!),
    })),
    summaryLabels: Object.fromEntries(
      record.metrics.filter((m) => m.mean !== undefined).map((m) => [
        m.mean!,
        { label: metricLabel(m), rate: isRate(m.mean!) },
      ]),
    ),
  };
}

// The env of a multi-seed folder's seeds (its first seed folder's).
function seedsEnv(dir: string): { env?: ReportEnv } {
  const first = seedFolders(dir)[0];
  const env = first ? reportEnvOf(first.path) : undefined;
  return env ? { env } : {};
}

// The parsed file, or undefined when it does not exist (read within the JSON budget
// of the multi-seed readers, regular files only).
function readJsonFile(path: string): unknown {
  const read = readRunJson(path);
  if ("value" in read) return read.value;
  if (read.notFound) return undefined;
  throw new UserError(`report: ${read.problem}`);
}
