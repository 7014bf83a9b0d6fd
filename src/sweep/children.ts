/**
 * The children of `train --seeds`: up to `--jobs` processes of this same program
 * ("lanes", `train ... --lane`), each training one seed at a time in-process as
 * `train --seed N` does (`lane.ts`) and taking the next queued seed from this process
 * over its stdin when one ends (a process reused for several seeds compiles its code
 * once: about 12% less CPU per seed after the first). Each seed's output goes to `logs/seed_N.log`
 * (a lane ends each seed's output on stdout and stderr with a marker line carrying
 * its exit code); Ctrl-C / SIGTERM is passed on to every lane; at the end
 * `summary.json` and its table.
 *
 * @module
 */

import { join } from "node:path";
import { writeSummary } from "./summary.ts";
import type { ExpertReturns } from "./expert_returns.ts";
import { formatSummary } from "./table.ts";
import { seedDir } from "./seed_dirs.ts";
import { errorLine, Progress } from "./progress.ts";
import type { SeedJob } from "./progress.ts";

/**
 * The flag of the processes `train --seeds` starts (lanes): `train [flags] --lane
 * --out-dir DIR` trains the seeds written to its stdin, each into `DIR/seed_N`.
 */
export const LANE_FLAG = "--lane";

/** What {@linkcode runChildren} runs. */
export interface ChildrenOptions {
  /** The seeds, in start order. */
  seeds: number[];
  /** The multi-seed folder. */
  outDir: string;
  /** This program: the executable and the arguments before `train`. */
  program: string[];
  /** `train` flags every seed gets (without --seed, --out-dir, --quiet). */
  flags: string[];
  /** Seeds run at a time. */
  jobs: number;
  /** Episodes of each seed's run (for the progress display). */
  totalEpisodes: number;
  /** No progress output. */
  quiet: boolean;
  /**
   * Work for this process while its first seeds run, done once they have all started
   * (the expert's evaluation the summary needs, off the end of the job).
   */
  whileRunning?: () => void;
  /** Expert returns already evaluated, for the summary. */
  experts?: ExpertReturns;
  /** The command that continues the job (the same one), shown when a seed did not finish. */
  continueCommand?: string;
  /** The command that continues one seed's stopped run from `checkpoint`. */
  resumeCommand?(checkpoint: string): string;
}

/**
 * Runs every seed of `opts.seeds` as a child `train --seed N` (the exit code: 0, the
 * first failed seed's, or 130 when stopped by a signal), then writes the summary and
 * prints its table.
 *
 * @example
 * ```ts ignore
 * await runChildren({ seeds: [1, 2], outDir: "out/seeds", program: selfCommand(), flags: [],
 *   jobs: 2, totalEpisodes: 500, quiet: false });
 * ```
 */
export async function runChildren(opts: ChildrenOptions): Promise<number> {
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
  // once the first wave of seeds has started
  let toStart = Math.min(opts.jobs, jobs.length);
  const started = () => {
    if (--toStart !== 0) return;
    try {
      opts.whileRunning?.();
    } catch {
      // the summary does that work itself, and reports what fails there
    }
  };
  let next = 0;
  const take = () => (stopping || next >= jobs.length ? null : jobs[next++]);
  try {
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < Math.min(opts.jobs, jobs.length); i++) {
      lanes.push(superviseLane({ take, opts, display, started, stopping: () => stopping }));
    }
    await Promise.all(lanes);
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
  const summary = await writeSummary(outDir, {
    seeds: opts.seeds,
    failures,
    experts: opts.experts,
  });
  console.log(formatSummary(summary));
  const interrupted = jobs.filter((j) => j.state === "interrupted");
  for (const job of interrupted) {
    const ckpt = latestCheckpoint(job.dir);
    const command = ckpt && (opts.resumeCommand?.(ckpt) ?? `train --resume ${ckpt}`);
    if (command) console.error(`train: seed ${job.seed}: continue with \`${command}\``);
  }
  const notStarted = jobs.filter((j) => j.state === "queued").map((j) => j.seed);
  if (notStarted.length > 0) console.error(`train: not started: seeds ${notStarted.join(" ")}`);
  if (!opts.quiet) console.error(`train: wrote ${join(outDir, "summary.json")}`);
  const unfinished = jobs.filter((j) => j.state !== "finished");
  if (unfinished.length > 0 && opts.continueCommand) {
    console.error(
      `train: ${unfinished.length} of ${jobs.length} seeds did not finish; the same command continues them (finished seeds are left as they are)`,
    );
    console.error(`train: continue with \`${opts.continueCommand}\``);
  }
  const failed = jobs.find((j) => j.state === "failed");
  if (stopping) return 130;
  if (failed) return failed.code || 1;
  // a seed stopped on its own (its worker was told to stop), or never started
  return interrupted[0]?.code ?? (unfinished.length > 0 ? 1 : 0);
}

/** The marker a lane writes on stdout and on stderr after each seed: `\x1eseed-end N CODE\n`. */
export function seedEndMarker(seed: number, code: number): string {
  return `\x1eseed-end ${seed} ${code}\n`;
}

// what follows the record separator (0x1e) that starts a marker
const MARKER = /^seed-end (\d+) (-?\d+)\n$/;
const RS = 0x1e;

// One output stream of a lane: its bytes go to the log of the seed running, up to that
// seed's end marker, whose exit code is handed to `ended`.
class StreamSplitter {
  #pending = new Uint8Array(0);
  #decoder = new TextDecoder();
  constructor(
    readonly target: () => { log: Deno.FsFile; job: SeedJob } | null,
    readonly ended: (seed: number, code: number) => void,
    readonly keepTail: boolean,
  ) {}

  async push(chunk: Uint8Array): Promise<void> {
    let buf = chunk;
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending);
      buf.set(chunk, this.#pending.length);
      this.#pending = new Uint8Array(0);
    }
    let at = 0;
    while (at < buf.length) {
      const rs = buf.indexOf(RS, at);
      if (rs < 0) {
        await this.#write(buf.subarray(at));
        return;
      }
      await this.#write(buf.subarray(at, rs));
      const nl = buf.indexOf(0x0a, rs);
      if (nl < 0) {
        this.#pending = buf.slice(rs); // a marker cut between two reads
        return;
      }
      const m = MARKER.exec(new TextDecoder().decode(buf.subarray(rs + 1, nl + 1)));
      if (m) this.ended(Number(m[1]), Number(m[2]));
      else await this.#write(buf.subarray(rs, nl + 1)); // not a marker after all
      at = nl + 1;
    }
  }

  async end(): Promise<void> {
    if (this.#pending.length > 0) await this.#write(this.#pending);
    this.#pending = new Uint8Array(0);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    const t = this.target();
    if (t === null || bytes.length === 0) return;
    let written = 0;
    while (written < bytes.length) written += await t.log.write(bytes.subarray(written));
    if (this.keepTail) {
      t.job.stderrTail = (t.job.stderrTail + this.#decoder.decode(bytes, { stream: true }))
        .slice(-2000);
    }
  }
}

// One lane: starts a child process and hands it the seeds `take` gives, one at a time
// (it trains each: `lane.ts`), each seed's output into its log, until none is left (or
// the job stops). A lane that dies takes its seed down as failed (its exit code), and
// the next seed gets a new lane.
async function superviseLane(
  lane: {
    take: () => SeedJob | null;
    opts: ChildrenOptions;
    display: Progress;
    started: () => void;
    /** The whole job is stopping (a signal to this process). */
    stopping: () => boolean;
  },
): Promise<void> {
  const { take, opts, display } = lane;
  const [program, ...prefix] = opts.program;
  let job = take();
  while (job !== null) {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args: [...prefix, "train", ...opts.flags, LANE_FLAG, "--out-dir", opts.outDir],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        // Its own process group: a terminal's Ctrl-C reaches the children only through
        // the parent, once, and the parent knows to wait for them.
        detached: true,
      }).spawn();
    } catch (e) {
      job.state = "failed";
      job.stderrTail = `could not start ${program}: ${(e as Error).message.split("\n")[0]}`;
      display.ended(job);
      lane.started();
      job = take();
      continue;
    }
    const stdin = child.stdin.getWriter();
    let current: { job: SeedJob; log: Deno.FsFile } | null = null;
    // a seed has ended when both streams have passed its marker
    let marks = 0;
    let seedDone = () => {};
    const onMarker = (seed: number, code: number) => {
      if (current === null || current.job.seed !== seed) return;
      current.job.code = code;
      if (++marks === 2) seedDone();
    };
    const pump = async (stream: ReadableStream<Uint8Array>, keepTail: boolean) => {
      const to = new StreamSplitter(() => current, onMarker, keepTail);
      for await (const chunk of stream) await to.push(chunk);
      await to.end();
    };
    const streams = Promise.all([pump(child.stdout, false), pump(child.stderr, true)]);
    let alive = true;
    while (job !== null && alive) {
      current = {
        job,
        log: await Deno.open(logPath(opts.outDir, job.seed), {
          write: true,
          create: true,
          truncate: true,
        }),
      };
      marks = 0;
      job.code = null;
      job.startedAt = Date.now();
      job.state = "running";
      job.child = child;
      const done = new Promise<boolean>((resolve) => seedDone = () => resolve(true));
      display.started(job);
      lane.started();
      await stdin.write(new TextEncoder().encode(`${job.seed}\n`)).catch(() => {});
      if (!await Promise.race([done, child.status.then(() => false)])) {
        // the lane died during this seed: what it wrote, then its exit code
        alive = false;
        await streams;
        if (marks < 2) job.code = (await child.status).code;
      }
      current.log.close();
      current = null;
      job.child = null;
      // 130 (SIGINT) and 143 (SIGTERM): the run saved its checkpoint and stopped.
      const code = job.code ?? 1;
      job.state = code === 0 ? "finished" : code === 130 || code === 143 ? "interrupted" : "failed";
      display.ended(job);
      display.poll();
      if (job.state === "interrupted" && !lane.stopping()) {
        // its worker alone was told to stop (and has ended): it takes no new seed
        job = null;
        break;
      }
      job = take();
    }
    if (alive) {
      await stdin.close().catch(() => {});
      await child.status;
      await streams;
    }
  }
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
