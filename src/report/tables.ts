/**
 * The report page's tables and headline: the held-out evaluation with every metric the
 * run kept (the expert's row where it is known; rates in percent, as the CLI prints them),
 * the last `metrics.json` entry and the training summary as labelled groups, and one line
 * that says what the delta did.
 *
 * @module
 */

import { formatNumber } from "./axes.ts";
import { escapeXml } from "./chart.ts";
import type { RunReportData } from "./_context.ts";
import { readTrainMetrics, valueAt } from "./run_metrics.ts";

// Labels of the keys every run logs; an env's summary keys come from its declarations.
const LABELS: Record<string, string> = {
  episode: "episode",
  mean_reward: "mean training return since the last entry",
  mean_length: "mean training episode length",
  total_episodes: "training episodes",
  success_rate: "success rate",
  policy_loss: "policy loss",
  value_loss: "value loss",
  entropy: "entropy (nats)",
  kl: "approx KL",
  clip_fraction: "clip fraction",
  explained_variance: "explained variance",
  grad_norm_delta: "gradient norm, delta head",
  grad_norm_value: "gradient norm, value head",
  learning_rate: "learning rate",
  epochs: "epochs run",
  minibatches: "minibatches",
  mean_delta_norm: "mean |delta|",
  max_delta_norm: "largest |delta|",
  std_delta_norm: "std of |delta|",
  return_mean: "mean return",
  steps_mean: "mean length (steps)",
  timestamp: "time",
  mean_reward_100ep: "mean return, last 100 episodes",
  mean_length_100ep: "mean length, last 100 episodes",
  success_rate_100ep: "success rate, last 100 episodes",
  wall_time_s: "wall time (s)",
  env_steps: "env steps",
  env_steps_per_second: "env steps per second",
  start_time: "started",
  end_time: "ended",
};

/** How a summary key reads: its label and whether it is a rate (shown in percent). */
type Labels = (key: string) => { label: string; rate: boolean };

// Without a goal, a success rate is always 0 and means nothing: left out.
function meaningful(data: RunReportData): (key: string) => boolean {
  return (key) => data.env?.hasSuccess !== false || !key.startsWith("success_rate");
}

function labelsOf(data: RunReportData): Labels {
  const env = data.env?.summaryLabels ?? {};
  return (key) =>
    Object.hasOwn(env, key) ? env[key] : {
      label: LABELS[key] ?? key.replace(/[._]+/g, " "),
      rate: key.endsWith("_rate") || key.startsWith("success_rate"),
    };
}

function show(v: unknown, rate: boolean, digits = 4): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  if (rate && v >= 0 && v <= 1) return `${(100 * v).toFixed(1)}%`;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  return formatNumber(v, digits);
}

// The names of held-out means before eval's.
const OLD_NAMES: Record<string, string> = { mean_return: "return_mean", mean_length: "steps_mean" };

// The finite numbers of an object, by key (older names read as eval's), in its order.
function numbers(value: unknown): [string, number][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value)
    .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))
    .map(([k, v]) => [OLD_NAMES[k] ?? k, v]);
}

// A held-out number as the CLI prints it: return 2 decimals, rates in percent, length 1
// decimal, the env's metrics 3 decimals.
function cliNumber(key: string, v: number | undefined, rate: boolean): string {
  if (v === undefined) return "–";
  if (rate) return `${(100 * v).toFixed(1)}%`;
  return v.toFixed(key === "return_mean" ? 2 : key === "steps_mean" ? 1 : 3);
}

/**
 * The held-out table: one row per policy (the expert's on the same seeds where known, the
 * base policy alone, base + delta), a column per number the run kept; null without one.
 *
 * @example
 * ```ts ignore
 * heldoutTable(data); // "<p>200 episodes, ...</p>\n<table>..."
 * ```
 */
export function heldoutTable(data: RunReportData): string | null {
  const train = data.trainMetrics;
  const block = (k: string) => new Map(numbers(valueAt(train, `heldout.${k}`)));
  const base = valueAt(train, "heldout.sft") !== undefined ? block("sft") : block("base");
  const refined = block("refined");
  const { heldout_seeds: seeds } = readTrainMetrics(train);
  const expert = new Map(Object.entries(data.expert?.final ?? {}));
  if (base.size === 0 && refined.size === 0) return null;
  const names = data.env ?? { base: "base policy", refined: "base + delta" };
  const hasSuccess = data.env?.hasSuccess !== false;
  const keys = [...new Set([...base.keys(), ...refined.keys()])]
    .filter((k) => hasSuccess || k !== "success_rate");
  const labels = labelsOf(data);
  const heads = keys.map((k) => `<th>${escapeXml(labels(k).label)}</th>`).join("");
  const row = (name: string, values: Map<string, number>) =>
    `<tr><th>${escapeXml(name)}</th>${
      keys.map((k) => `<td class="num">${cliNumber(k, values.get(k), labels(k).rate)}</td>`).join(
        "",
      )
    }</tr>`;
  const rows = [
    ...(expert.size > 0 ? [row("expert", expert)] : []),
    row(names.base, base),
    row(names.refined, refined),
  ];
  const note = seeds
    ? `<p>${seeds[1]} episodes, seeds ${seeds[0]}..${seeds[0] + seeds[1] - 1}${
      expert.size > 0 ? "; the expert planner on the same seeds" : ""
    }</p>\n`
    : "";
  return `${note}<table>\n<tr><th>policy</th>${heads}</tr>\n${rows.join("\n")}\n</table>`;
}

/**
 * One line of what the delta did on the held-out seeds: each number the run kept, the
 * base policy's then base + delta's (and the expert's return); null without them.
 *
 * @example
 * ```ts ignore
 * headline(data); // "Held-out, 200 episodes: mean return 9.70 → 29.47 (expert 29.46); ..."
 * ```
 */
export function headline(data: RunReportData): string | null {
  const train = data.trainMetrics;
  const base = new Map(numbers(valueAt(train, "heldout.sft") ?? valueAt(train, "heldout.base")));
  const refined = new Map(numbers(valueAt(train, "heldout.refined")));
  if (refined.size === 0) return null;
  const labels = labelsOf(data);
  const hasSuccess = data.env?.hasSuccess !== false;
  const expert = data.expert?.final?.return_mean;
  const parts = [...refined.keys()]
    .filter((k) => k !== "steps_mean" && (hasSuccess || k !== "success_rate"))
    .map((k) => {
      const { label, rate } = labels(k);
      const extra = k === "return_mean" && expert !== undefined
        ? ` (expert ${expert.toFixed(2)})`
        : "";
      return `${label} ${cliNumber(k, base.get(k), rate)} → ${
        cliNumber(k, refined.get(k), rate)
      }${extra}`;
    });
  const names = data.env ?? { base: "base policy", refined: "base + delta" };
  const count = readTrainMetrics(train).heldout_seeds?.[1];
  return `${names.base} → ${names.refined}, held out${
    count === undefined ? "" : ` on ${count} episodes`
  }: ${parts.join("; ")}`;
}

/**
 * A two-column table of labelled groups: each group's heading row, then its rows.
 *
 * @example
 * ```ts
 * groupTable([["PPO update", [["approx KL", "0.01"]]]]).includes("approx KL"); // true
 * ```
 */
export function groupTable(groups: [heading: string, rows: [string, string][]][]): string {
  const body = groups.filter(([, rows]) => rows.length > 0).flatMap(([heading, rows]) => [
    `<tr><th colspan="2" class="group">${escapeXml(heading)}</th></tr>`,
    ...rows.map(([k, v]) =>
      `<tr><td>${escapeXml(k)}</td><td class="num">${escapeXml(v)}</td></tr>`
    ),
  ]);
  return body.length === 0 ? "" : `<table>\n${body.join("\n")}\n</table>`;
}

// The rows of an object's leaves (one level of nesting flattened with its key).
function rowsOf(
  value: unknown,
  o: { labels: Labels; keep: (key: string) => boolean },
): [string, string][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]): [string, string][] => {
    if (!o.keep(k)) return [];
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const group = k.replace(/_/g, " ");
      return rowsOf(v, o).map(([label, shown]) => [`${group}: ${label}`, shown]);
    }
    if (!["number", "string", "boolean"].includes(typeof v)) return [];
    const { label, rate } = o.labels(k);
    return [[label, show(v, rate)]];
  });
}

/**
 * The last `metrics.json` entry as labelled groups: training, the PPO update, the delta,
 * the held-out means of base + delta and of the base policy; empty without an entry.
 *
 * @example
 * ```ts ignore
 * lastEntryTable(data);
 * ```
 */
export function lastEntryTable(data: RunReportData): string {
  const last = data.metrics[data.metrics.length - 1];
  if (typeof last !== "object" || last === null || Array.isArray(last)) return "";
  const labels = { labels: labelsOf(data), keep: meaningful(data) };
  const e = last as Record<string, unknown>;
  const names = data.env ?? { base: "base policy", refined: "base + delta" };
  const grouped = ["update", "eval", "heldout", "sft_heldout", "base_heldout"];
  const training = Object.fromEntries(Object.entries(e).filter(([k]) => !grouped.includes(k)));
  return groupTable([
    ["training", rowsOf(training, labels)],
    ["PPO update", rowsOf(e.update, labels)],
    ["delta (latest rollout)", rowsOf(e.eval, labels)],
    [`held-out, ${names.refined}`, rowsOf(e.heldout, labels)],
    [`held-out, ${names.base}`, rowsOf(e.sft_heldout ?? e.base_heldout, labels)],
  ]);
}

/**
 * `train_metrics.json`'s summary as labelled groups: the last 100 episodes, the base
 * policy at the start, the best checkpoint, time and env steps; empty without one.
 *
 * @example
 * ```ts ignore
 * summaryTable(data);
 * ```
 */
export function summaryTable(data: RunReportData): string {
  const t = data.trainMetrics;
  const labels = { labels: labelsOf(data), keep: meaningful(data) };
  const names = data.env ?? { base: "base policy", refined: "base + delta" };
  const start = valueAt(t, "sft_eval") ?? valueAt(t, "base_eval");
  const seeds = valueAt(start, "seeds");
  const { seeds: _, ...startMeans } = typeof start === "object" && start !== null
    ? start as Record<string, unknown>
    : { seeds: null };
  const startNote = Array.isArray(seeds) && typeof seeds[1] === "number"
    ? ` (${seeds[1]} episodes)`
    : "";
  const times = Object.fromEntries(
    ["wall_time_s", "env_steps", "env_steps_per_second", "start_time", "end_time"]
      .map((k) => [k, valueAt(t, k)]),
  );
  return groupTable([
    ["training", rowsOf(valueAt(t, "final_metrics"), labels)],
    [`held-out at the start, ${names.base}${startNote}`, rowsOf(startMeans, labels)],
    ["best.pt (best held-out return during training)", rowsOf(valueAt(t, "best"), labels)],
    ["time and steps", rowsOf(times, labels)],
  ]);
}
