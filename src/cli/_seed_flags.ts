/**
 * The flags of `train --seeds LIST` (many seeds, one run folder `<out-dir>/seed_N` per
 * seed): the seed list, the job's own flags split from those every seed's run gets, and
 * their `--help` lines. The job itself: `sweep/`.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { LANE_FLAG, MAX_SEEDS } from "../sweep/mod.ts";

/** `train --help` lines of the multi-seed flags. */
export const SEEDS_HELP = [
  "",
  "Many seeds (one run folder <out-dir>/seed_N per seed; then summary.json and a table):",
  "  --seeds LIST             e.g. 1-5 or 1,3,7: independent runs, as many `train --seed N`",
  "                           (--out-dir default: out/rl_delta_waypoint_v0/seeds)",
  "  --jobs N                 seeds trained at a time (default: the number of cores)",
  "  --task-index I           run only seed number I (0-based) of LIST: one task of a cluster job",
  "  --emit slurm,k8s,ray     write a Slurm array script, a Kubernetes Indexed Job and a Ray",
  "                           entrypoint into --out-dir (nothing is run or submitted)",
];

/**
 * Whether `args` ask for many seeds (`--seeds`).
 *
 * @example
 * ```ts
 * hasSeedsFlag(["--seeds", "1-4"]); // true
 * ```
 */
export function hasSeedsFlag(args: string[]): boolean {
  return args.some((a) => a === "--seeds" || a.startsWith("--seeds=") || a === LANE_FLAG);
}

/**
 * Parses a seed list: comma-separated seeds and inclusive ranges `a-b`, in the given
 * order, each a `--seed` value (0..2^32-1), no repeats, at most {@linkcode MAX_SEEDS}.
 *
 * @example
 * ```ts
 * parseSeedList("1-3,7"); // [1, 2, 3, 7]
 * ```
 */
export function parseSeedList(text: string): number[] {
  const hint = "expected seeds and ranges such as 1-5 or 1,3,7";
  if (text.trim() === "") throw new UserError(`--seeds: empty list (${hint})`);
  const seeds: number[] = [];
  const seen = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^\s*(\d{1,10})\s*(?:-\s*(\d{1,10})\s*)?$/.exec(item);
    if (!m) {
      throw new UserError(`--seeds: '${item}' in '${text}' is not a seed or a range (${hint})`);
    }
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    for (const v of [lo, hi]) {
      if (v > 2 ** 32 - 1) {
        throw new UserError(`--seeds: ${v} is out of range (seeds are 0..${2 ** 32 - 1})`);
      }
    }
    if (hi < lo) throw new UserError(`--seeds: range '${item.trim()}' runs backwards`);
    if (seeds.length + (hi - lo + 1) > MAX_SEEDS) {
      throw new UserError(`--seeds: '${text}' has more than ${MAX_SEEDS} seeds`);
    }
    for (let s = lo; s <= hi; s++) {
      if (seen.has(s)) throw new UserError(`--seeds: seed ${s} appears twice in '${text}'`);
      seen.add(s);
      seeds.push(s);
    }
  }
  return seeds;
}

// The flags of a multi-seed job itself, besides `--lane`.
const OWN_FLAGS = ["seeds", "jobs", "task-index", "emit"] as const;

/**
 * Splits off the multi-seed job's own flags (`--seeds`, `--jobs`, `--task-index`,
 * `--emit`, both `--flag value` and `--flag=value`, and `--lane` as "lane"); `rest` is
 * what every seed's run gets. `train`'s own parser then checks `rest` strictly.
 *
 * @example
 * ```ts
 * splitOwnFlags(["--seeds", "1-3", "--episodes", "10"]).rest; // ["--episodes", "10"]
 * ```
 */
export function splitOwnFlags(args: string[]): { own: Map<string, string>; rest: string[] } {
  const own = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === LANE_FLAG) {
      own.set("lane", "");
      continue;
    }
    const name = OWN_FLAGS.find((f) => args[i] === `--${f}` || args[i].startsWith(`--${f}=`));
    if (name === undefined) {
      rest.push(args[i]);
      continue;
    }
    const separate = args[i] === `--${name}`;
    const value: string | undefined = separate ? args[++i] : args[i].slice(name.length + 3);
    if (value === undefined || (separate && value.startsWith("--"))) {
      throw new UserError(`train: --${name}: missing value (see --help)`);
    }
    if (own.has(name)) throw new UserError(`--${name}: given twice`);
    own.set(name, value);
  }
  return { own, rest };
}

/**
 * Refuses the multi-seed job's own flags (`--jobs`, `--task-index`, `--emit`) in a
 * command line without `--seeds`: each needs it.
 *
 * @example
 * ```ts
 * needsSeeds(["--episodes", "10"]); // no error
 * ```
 */
export function needsSeeds(args: string[]): void {
  for (const a of args) {
    const name = OWN_FLAGS.find((f) =>
      f !== "seeds" && (a === `--${f}` || a.startsWith(`--${f}=`))
    );
    if (name !== undefined) throw new UserError(`train: --${name} needs --seeds (see --help)`);
  }
}

/**
 * `rest` without `--out-dir`, in either spelling: the flags every seed's run gets.
 *
 * @example
 * ```ts
 * withoutOutDir(["--out-dir", "out/x", "--lr", "0.1"]); // ["--lr", "0.1"]
 * ```
 */
export function withoutOutDir(rest: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--out-dir") {
      i++;
      continue;
    }
    if (a.startsWith("--out-dir=")) continue;
    out.push(a);
  }
  return out;
}
