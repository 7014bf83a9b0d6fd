/**
 * `train --seeds LIST`: independent runs of the same configuration, one per seed, into
 * `<out-dir>/seed_N/`. Each seed is a child process of this same program running
 * `train --seed N --out-dir <out-dir>/seed_N [the other flags] --quiet`, so a seed's
 * folder is exactly that single run's; up to `--jobs` run at a time. One combined
 * progress display on stderr (read from the seeds' `metrics.json`), Ctrl-C / SIGTERM
 * forwarded to the children (each saves a checkpoint and stays resumable), and a
 * failing seed does not stop the others. At the end: `summary.json` and a table
 * (see `aggregate.ts`).
 *
 * The same flags with `--task-index I` run seed number I of the list in this process
 * (one task of a cluster job), and with `--emit` write the cluster jobs (`_emit.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEBUG_ENV, UserError } from "../errors.ts";
import { NO_SIMD_VAR } from "../math/kernels.ts";
import { existingRunFiles } from "../io/mod.ts";
import { loadSftPlanner } from "../sft/mod.ts";
import { buildRunConfig, parseTrainArgs, runTrain, trainHelp } from "./train.ts";
import { parseNumber } from "./_flags.ts";
import { formatSummary, writeSummary } from "./aggregate.ts";
import { parseEmitTargets, writeEmitted } from "./_emit.ts";
import { MAX_SEEDS, readJsonFile, readManifest, seedDir, writeManifest } from "./_seed_dirs.ts";

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
  return args.some((a) => a === "--seeds" || a.startsWith("--seeds="));
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

// Splits off this module's flags (both `--flag value` and `--flag=value`); `rest` is what
// every seed's run gets. `train`'s own parser then checks `rest` strictly.
function splitOwnFlags(args: string[]): { own: Map<string, string>; rest: string[] } {
  const own = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
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
 * How to start this same program: the executable itself when it was built with
 * `deno compile`, else Deno running `main.ts` with the permissions a `train` run needs
 * (read, write, and the program's environment switches that this process may read).
 *
 * @example
 * ```ts ignore
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
  return [Deno.execPath(), "run", "--allow-read", "--allow-write", ...allowEnv, main];
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
  return await runChildren({
    seeds,
    outDir,
    program,
    flags: withoutFlags(rest, ["--quiet"]),
    jobs: jobs ?? Math.max(1, navigator.hardwareConcurrency || 1),
    totalEpisodes: run.ppo.episodes,
    quiet: parsed.quiet,
  });
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

type SeedState = "queued" | "running" | "finished" | "failed" | "interrupted";

interface SeedJob {
  seed: number;
  dir: string;
  state: SeedState;
  child: Deno.ChildProcess | null;
  /** Episodes done, from the seed's metrics.json. */
  episode: number;
  startedAt: number;
  metricsMtime: number;
  /** Last lines the child wrote to stderr. */
  stderrTail: string;
  code: number | null;
}

interface ChildrenOptions {
  seeds: number[];
  outDir: string;
  program: string[];
  flags: string[];
  jobs: number;
  totalEpisodes: number;
  quiet: boolean;
}

async function runChildren(opts: ChildrenOptions): Promise<number> {
  const { outDir, totalEpisodes } = opts;
  const jobs: SeedJob[] = opts.seeds.map((seed) => ({
    seed,
    dir: seedDir(outDir, seed),
    state: "queued",
    child: null,
    episode: 0,
    startedAt: 0,
    metricsMtime: 0,
    stderrTail: "",
    code: null,
  }));
  const display = new Progress({ jobs, totalEpisodes, quiet: opts.quiet, outDir });
  display.note(
    `train: ${jobs.length} seeds (${
      opts.seeds.join(" ")
    }), ${opts.jobs} at a time, ${totalEpisodes} episodes each -> ${outDir}/seed_N`,
  );

  let stopping = false;
  const onSignal = () => {
    if (!stopping) display.note("train: stopping; each running seed saves a checkpoint");
    stopping = true;
    for (const job of jobs) {
      if (job.state !== "running" || job.child === null) continue;
      try {
        job.child.kill("SIGINT"); // what `train` handles: save a checkpoint and exit 130
      } catch {
        // already gone
      }
    }
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const timer = setInterval(() => display.poll(), display.live ? 500 : 2000);
  try {
    const running = new Set<Promise<void>>();
    let next = 0;
    while (next < jobs.length && !stopping) {
      while (running.size < opts.jobs && next < jobs.length && !stopping) {
        const job = jobs[next++];
        const done = runOne(job, opts, display).finally(() => running.delete(done));
        running.add(done);
      }
      if (running.size > 0) await Promise.race(running);
    }
    await Promise.all(running);
  } finally {
    clearInterval(timer);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    display.end();
  }

  const failures = new Map<number, string>();
  for (const job of jobs) {
    if (job.state !== "failed") continue;
    const why = errorLine(job.stderrTail);
    failures.set(
      job.seed,
      `failed (exit code ${job.code})${why ? `: ${why}` : ""}; log in ${logPath(outDir, job.seed)}`,
    );
  }
  const summary = await writeSummary(outDir, { seeds: opts.seeds, failures });
  console.log(formatSummary(summary));
  const interrupted = jobs.filter((j) => j.state === "interrupted");
  for (const job of interrupted) {
    const ckpt = latestCheckpoint(job.dir);
    if (ckpt) console.error(`train: seed ${job.seed}: resume with train --resume ${ckpt}`);
  }
  const notStarted = jobs.filter((j) => j.state === "queued").map((j) => j.seed);
  if (notStarted.length > 0) console.error(`train: not started: seeds ${notStarted.join(" ")}`);
  if (!opts.quiet) console.error(`train: wrote ${join(outDir, "summary.json")}`);
  const failed = jobs.find((j) => j.state === "failed");
  if (stopping) return 130;
  return failed ? (failed.code || 1) : 0;
}

// The line of a child's stderr that says what went wrong: its "error: ..." line, else
// its last line (colour codes removed).
function errorLine(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.find((l) => l.startsWith("error: ")) ?? lines.at(-1) ?? "";
}

function logPath(outDir: string, seed: number): string {
  return join(outDir, "logs", `seed_${seed}.log`);
}

function latestCheckpoint(dir: string): string | null {
  let best: [number, string] | null = null;
  try {
    for (const e of Deno.readDirSync(join(dir, "checkpoints"))) {
      const m = /^checkpoint_(\d+)\.pt$/.exec(e.name);
      if (m && (best === null || Number(m[1]) > best[0])) best = [Number(m[1]), e.name];
    }
  } catch {
    return null;
  }
  return best && join(dir, "checkpoints", best[1]);
}

// Starts one seed's run, copies its output to logs/seed_N.log and waits for it.
async function runOne(job: SeedJob, opts: ChildrenOptions, display: Progress): Promise<void> {
  const [program, ...prefix] = opts.program;
  const log = await Deno.open(logPath(opts.outDir, job.seed), {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    job.startedAt = Date.now();
    job.state = "running";
    job.child = new Deno.Command(program, {
      args: [
        ...prefix,
        "train",
        ...opts.flags,
        "--seed",
        String(job.seed),
        "--out-dir",
        job.dir,
        "--quiet",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Its own process group: a terminal's Ctrl-C reaches the children only through the
      // parent, once, and the parent knows to wait for them.
      detached: true,
    }).spawn();
    display.started(job);
    const decoder = new TextDecoder();
    const copy = async (stream: ReadableStream<Uint8Array>, keepTail: boolean) => {
      for await (const chunk of stream) {
        let written = 0;
        while (written < chunk.length) written += await log.write(chunk.subarray(written));
        if (keepTail) job.stderrTail = (job.stderrTail + decoder.decode(chunk)).slice(-2000);
      }
    };
    const [status] = await Promise.all([
      job.child.status,
      copy(job.child.stdout, false),
      copy(job.child.stderr, true),
    ]);
    job.code = status.code;
    // 130 (SIGINT) and 143 (SIGTERM): the run saved its checkpoint and stopped.
    const stopped = status.code === 130 || status.code === 143;
    job.state = status.success ? "finished" : stopped ? "interrupted" : "failed";
  } catch (e) {
    if (job.child === null) {
      job.state = "failed";
      job.stderrTail = `could not start ${program}: ${(e as Error).message.split("\n")[0]}`;
    } else {
      throw e;
    }
  } finally {
    log.close();
  }
  display.ended(job);
  display.poll();
}

/**
 * The combined progress display: a live line on a terminal, else one line per event
 * (a seed started, finished, failed; every 10% of the whole job).
 */
class Progress {
  readonly live: boolean;
  #jobs: SeedJob[];
  #total: number;
  #quiet: boolean;
  #t0 = Date.now();
  #lastDecile = 0;

  constructor(opts: { jobs: SeedJob[]; totalEpisodes: number; quiet: boolean; outDir: string }) {
    this.#jobs = opts.jobs;
    this.#total = opts.totalEpisodes;
    this.#quiet = opts.quiet;
    this.live = !opts.quiet && Deno.stderr.isTerminal();
  }

  note(line: string): void {
    if (this.#quiet) return;
    if (this.live) this.#write(`\r\x1b[K${line}\n`);
    else console.error(line);
    if (this.live) this.#draw();
  }

  started(job: SeedJob): void {
    if (!this.live) this.note(`seed ${job.seed}: started`);
  }

  ended(job: SeedJob): void {
    const secs = ((Date.now() - job.startedAt) / 1000).toFixed(1);
    if (job.state === "finished") {
      this.note(`seed ${job.seed}: finished in ${secs} s${this.#heldout(job)}`);
    } else if (job.state === "interrupted") {
      const read = readJsonFile(join(job.dir, "train_metrics.json"));
      const tm = "value" in read
        ? read.value as { final_metrics?: { total_episodes?: unknown } }
        : null;
      const at = tm?.final_metrics?.total_episodes;
      if (typeof at === "number") job.episode = at;
      this.note(`seed ${job.seed}: interrupted at episode ${job.episode}`);
    } else {
      const why = errorLine(job.stderrTail);
      // A failure is reported even with --quiet.
      console.error(
        `${this.live ? "\r\x1b[K" : ""}seed ${job.seed}: failed (exit code ${job.code})${
          why ? `: ${why}` : ""
        }`,
      );
    }
  }

  // Re-reads the running seeds' metrics.json (when changed) and redraws.
  poll(): void {
    for (const job of this.#jobs) {
      if (job.state === "finished") job.episode = this.#total;
      if (job.state !== "running" && job.state !== "interrupted") continue;
      try {
        const path = join(job.dir, "metrics.json");
        const mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
        // An older file is a previous run's, about to be replaced (--overwrite).
        if (mtime === job.metricsMtime || mtime < job.startedAt - 1000) continue;
        const read = readJsonFile(path);
        const entries = "value" in read ? read.value : null;
        const last = Array.isArray(entries) ? entries.at(-1) : null;
        if (typeof last?.episode === "number") job.episode = last.episode;
        job.metricsMtime = mtime;
      } catch {
        // not written yet
      }
    }
    if (this.#quiet) return;
    if (this.live) {
      this.#draw();
      return;
    }
    const decile = Math.floor(10 * this.#fraction());
    if (decile > this.#lastDecile && decile < 10) {
      this.#lastDecile = decile;
      console.error(this.#statusLine());
    }
  }

  end(): void {
    if (this.live) this.#write("\r\x1b[K");
  }

  #fraction(): number {
    const done = this.#jobs.reduce((s, j) => s + Math.min(j.episode, this.#total), 0);
    return done / (this.#jobs.length * this.#total);
  }

  #statusLine(): string {
    const count = (s: SeedState) => this.#jobs.filter((j) => j.state === s).length;
    const f = this.#fraction();
    const elapsed = (Date.now() - this.#t0) / 1000;
    const eta = f > 0 ? ` eta ${Math.round(elapsed * (1 - f) / f)} s` : "";
    const running = this.#jobs.filter((j) => j.state === "running")
      .map((j) => `${j.seed}:${j.episode}/${this.#total}`).join(" ");
    const failed = count("failed") > 0 ? `, ${count("failed")} failed` : "";
    return `seeds: ${count("finished")} done, ${count("running")} running [${running}], ${
      count("queued")
    } queued${failed}  ${(100 * f).toFixed(0)}%${eta}`;
  }

  #draw(): void {
    this.#write(`\r${this.#statusLine()}\x1b[K`);
  }

  #write(text: string): void {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  }

  #heldout(job: SeedJob): string {
    try {
      const read = readJsonFile(join(job.dir, "train_metrics.json"));
      const tm = "value" in read
        ? read.value as { heldout?: { refined?: Record<string, number> } }
        : null;
      const r = tm?.heldout?.refined;
      if (typeof r?.return_mean !== "number") return "";
      return `: held-out return ${r.return_mean.toFixed(2)}, success ${
        (100 * r.success_rate).toFixed(1)
      }%`;
    } catch {
      return "";
    }
  }
}
