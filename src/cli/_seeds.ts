/**
 * `train --seeds LIST`: independent runs of the same configuration, one per seed, into
 * `<out-dir>/seed_N/`. Each seed is a child process of this same program running
 * `train --seed N --out-dir <out-dir>/seed_N [the other flags] --quiet`, so a seed's
 * folder is exactly that single run's; up to `--jobs` run at a time. One combined
 * progress display on stderr (read from the seeds' `metrics.json`), Ctrl-C / SIGTERM
 * forwarded to the children (each saves a checkpoint and stays resumable), and a
 * failing seed does not stop the others (`_seed_children.ts`, `_seed_progress.ts`). At
 * the end: `summary.json` and a table (see `aggregate.ts`).
 *
 * The same flags with `--task-index I` run seed number I of the list in this process
 * (one task of a cluster job), and with `--emit` write the cluster jobs (`_emit.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEBUG_ENV, EXIT, reportError, UserError } from "../errors.ts";
import { NO_SIMD_VAR } from "../math/mod.ts";
import { existingRunFiles } from "../io/mod.ts";
import { loadSftPlanner } from "../sft/mod.ts";
import { buildRunConfig, parseTrainArgs, runTrain, trainHelp } from "./train.ts";
import { parseNumber } from "./_flags.ts";
import { parseEmitTargets, writeEmitted } from "./_emit.ts";
import { MAX_SEEDS, readManifest, seedDir, writeManifest } from "./_seed_dirs.ts";
import { runChildren, seedEndMarker } from "./_seed_children.ts";
import { expertReturn } from "./_seed_summary.ts";
import type { ExpertReturns } from "./_seed_summary.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";

/** Where `train --seeds` writes without `--out-dir`. */
export const DEFAULT_SEEDS_OUT_DIR = "out/rl_delta_waypoint_v0/seeds";

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

const OWN_FLAGS = ["seeds", "jobs", "task-index", "emit"] as const;

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

// A child of `train --seeds` (a lane; `_seed_children.ts`): trains the seeds its parent
// writes to its stdin, one per line, each as `train --seed N` into <out-dir>/seed_N.
const LANE_FLAG = "--lane";

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

// Splits off this module's flags (both `--flag value` and `--flag=value`); `rest` is what
// every seed's run gets. `train`'s own parser then checks `rest` strictly.
function splitOwnFlags(args: string[]): { own: Map<string, string>; rest: string[] } {
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
    let value: string | undefined;
    if (args[i] === `--${name}`) value = args[++i];
    else value = args[i].slice(name.length + 3);
    if (value === undefined) {
      throw new UserError(`train: option '--${name}' needs a value (see --help)`);
    }
    if (own.has(name)) throw new UserError(`--${name}: given twice`);
    own.set(name, value);
  }
  return { own, rest };
}

// `rest` without `--out-dir` (and without `drop`), in either spelling.
function withoutFlags(rest: string[], drop: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--out-dir") {
      i++;
      continue;
    }
    if (a.startsWith("--out-dir=") || drop.includes(a)) continue;
    out.push(a);
  }
  return out;
}

/**
 * The V8 flags `deno task train` and `deno task compile` give the program, and a lane is
 * started with: young-generation semi-spaces of at most 4 MB. Without the cap V8 grows
 * them to 16 MB each over a run and keeps them, so a lane that trains seed after seed
 * grew by about 3.6 MB a seed (16 seeds: 145 MB; with it, the heap stays near 17 MB).
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=4";

/**
 * How to start this same program: the executable itself when it was built with
 * `deno compile`, else Deno running `main.ts` with the permissions a `train` run needs
 * (read, write, and the program's environment switches that this process may read).
 *
 * @example
 * ```ts
 * const [program, ...prefix] = selfCommand();
 * ```
 */
export function selfCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  // The program's own environment switches, as far as this process may read them.
  const env = [DEBUG_ENV, NO_SIMD_VAR].filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted"
  );
  const allowEnv = env.length > 0 ? [`--allow-env=${env.join(",")}`] : [];
  return [Deno.execPath(), "run", V8_FLAGS, "--allow-read", "--allow-write", ...allowEnv, main];
}

/**
 * Runs `train` with `--seeds` (and maybe `--jobs`, `--task-index`, `--emit`); returns
 * the exit code: 0 when every seed finished, 130 when interrupted, else the first
 * failing seed's code.
 *
 * @example
 * ```ts ignore
 * await runSeeds(["--seeds", "1-4", "--out-dir", "out/seeds"]);
 * ```
 */
export async function runSeeds(args: string[]): Promise<number> {
  const { own, rest } = splitOwnFlags(args);
  const parsed = parseTrainArgs(rest);
  if (parsed.help) {
    console.log(trainHelp());
    return 0;
  }
  if (parsed.resume !== null) {
    throw new UserError(
      "--seeds: cannot be combined with --resume (resume one seed: train --resume <out-dir>/seed_N/checkpoints/checkpoint_K.pt)",
    );
  }
  if (parsed.values.seed !== undefined) {
    throw new UserError("--seeds: cannot be combined with --seed (the list gives each run's seed)");
  }
  if (own.has("lane")) {
    const dir = parsed.values["out-dir"];
    if (typeof dir !== "string" || own.size > 1 || Deno.stdin.isTerminal()) {
      throw new UserError(`${LANE_FLAG}: only for the processes train --seeds starts`);
    }
    return await runLane(withoutFlags(rest, ["--quiet"]), dir);
  }
  const list = own.get("seeds")!;
  const seeds = parseSeedList(list);
  const run = buildRunConfig(parsed.values);
  // Not the single run's default folder: that may well hold a run already.
  const outDir = parsed.values["out-dir"] === undefined ? DEFAULT_SEEDS_OUT_DIR : run.out_dir;
  const flags = withoutFlags(rest, []);
  const jobsFlag = own.get("jobs");
  const jobs = jobsFlag === undefined
    ? null
    : parseNumber(jobsFlag, { flag: "--jobs", kind: "int", lo: 1, hi: 1024 });

  const taskIndex = own.get("task-index");
  if (taskIndex !== undefined) {
    if (own.has("emit")) throw new UserError("--task-index: cannot be combined with --emit");
    const i = parseNumber(taskIndex, {
      flag: "--task-index",
      kind: "int",
      lo: 0,
      hi: seeds.length - 1,
    });
    // Exactly the single run of that seed.
    return await runTrain([
      ...flags,
      "--seed",
      String(seeds[i]),
      "--out-dir",
      seedDir(outDir, seeds[i]),
    ]);
  }

  checkOutDir(outDir, { seeds, overwrite: parsed.overwrite });
  const emit = own.get("emit");
  if (emit !== undefined) {
    // Paths in the flags are the cluster's: an --sft-model need not exist here.
    const targets = parseEmitTargets(emit);
    const job = { seeds, list, outDir, flags, jobs, program: selfCommand(), cwd: Deno.cwd() };
    const paths = await writeEmitted(targets, { job, overwrite: parsed.overwrite });
    await writeManifest(outDir, { seeds, list, flags });
    for (const p of paths) console.log(p);
    console.error(
      `train: wrote ${paths.length} job file${
        paths.length === 1 ? "" : "s"
      } for ${seeds.length} seeds; nothing was submitted (see the comment at the top of each)`,
    );
    return 0;
  }

  if (run.sft_model !== null) {
    // Once here rather than failing in every seed.
    await loadSftPlanner(run.sft_model, {
      horizon: run.env.horizon_steps,
      obsDim: 1 + 2 * run.env.horizon_steps,
    });
  }
  const program = selfCommand();
  if (Deno.permissions.querySync({ name: "run", command: program[0] }).state !== "granted") {
    throw new UserError(
      "--seeds: starting one process per seed needs --allow-run (deno task train has it)",
    );
  }
  Deno.mkdirSync(join(outDir, "logs"), { recursive: true });
  await writeManifest(outDir, { seeds, list, flags });
  // The summary's expert return on the seeds' held-out episodes, while they train.
  const experts: ExpertReturns = new Map();
  const heldout = { first_seed: HELDOUT_SEED_BASE, count: run.ppo.heldout_episodes };
  return await runChildren({
    whileRunning: () => {
      expertReturn(experts, { envName: run.env_name ?? "driving", env: run.env, heldout });
    },
    experts,
    seeds,
    outDir,
    program,
    flags: withoutFlags(rest, ["--quiet"]),
    jobs: jobs ?? Math.max(1, navigator.hardwareConcurrency || 1),
    totalEpisodes: run.ppo.episodes,
    quiet: parsed.quiet,
  });
}

// The lane's loop: each seed its parent names on stdin is trained in this process as
// `train --seed N --out-dir <outDir>/seed_N --quiet` would train it (the same folder),
// then marked done on stdout and stderr with its exit code. Ends when stdin closes, or
// after a seed stopped by a signal (which the parent passed on to this process).
async function runLane(flags: string[], outDir: string): Promise<number> {
  const encoder = new TextEncoder();
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!/^\d+$/.test(line)) continue;
      const seed = Number(line);
      let code: number;
      try {
        code = await runTrain([
          ...flags,
          "--seed",
          String(seed),
          "--out-dir",
          seedDir(outDir, seed),
          "--quiet",
        ]);
      } catch (e) {
        code = reportError(e);
      }
      const marker = encoder.encode(seedEndMarker(seed, code));
      for (const stream of [Deno.stdout, Deno.stderr]) {
        for (let at = 0; at < marker.length;) at += stream.writeSync(marker.subarray(at));
      }
      if (code === EXIT.sigint || code === EXIT.sigterm) return code;
    }
  }
  return 0;
}

// Refuses a folder that holds a single run, a different multi-seed job, or seeds that
// already hold runs (unless --overwrite, which each seed's run then applies).
function checkOutDir(dir: string, opts: { seeds: number[]; overwrite: boolean }): void {
  try {
    if (!Deno.statSync(dir).isDirectory) {
      throw new UserError(`--out-dir ${dir}: exists and is not a folder`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const single = existingRunFiles(dir);
  if (single.length > 0) {
    throw new UserError(
      `--out-dir ${dir} holds a single run (${single[0]}); choose another folder for --seeds`,
    );
  }
  if (opts.overwrite) return;
  const manifest = readManifest(dir);
  if (manifest && manifest.seeds.join(",") !== opts.seeds.join(",")) {
    throw new UserError(
      `--out-dir ${dir} holds a multi-seed job of seeds ${manifest.list}; pass --overwrite to replace it, or choose another folder`,
    );
  }
  for (const seed of opts.seeds) {
    let taken: string[];
    try {
      taken = existingRunFiles(seedDir(dir, seed));
    } catch {
      continue; // unreadable: that seed's own run reports it
    }
    if (taken.length > 0) {
      throw new UserError(
        `--out-dir ${dir}: seed ${seed} already holds a run (${
          taken[0]
        }); pass --overwrite to replace the seeds' runs, or choose another folder`,
      );
    }
  }
}
