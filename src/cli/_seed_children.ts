/**
 * The children of `train --seeds`: one process of this same program per seed, up to
 * `--jobs` at a time, each one's output copied to `logs/seed_N.log`; Ctrl-C / SIGTERM is
 * passed on to every running seed; at the end `summary.json` and its table.
 *
 * @module
 */

import { join } from "node:path";
import { writeSummary } from "./_seed_summary.ts";
import type { ExpertReturns } from "./_seed_summary.ts";
import { formatSummary } from "./_seed_table.ts";
import { seedDir } from "./_seed_dirs.ts";
import { errorLine, Progress } from "./_seed_progress.ts";
import type { SeedJob } from "./_seed_progress.ts";

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
  try {
    const running = new Set<Promise<void>>();
    let next = 0;
    while (next < jobs.length && !stopping) {
      while (running.size < opts.jobs && next < jobs.length && !stopping) {
        const job = jobs[next++];
        const done = runOne(job, { ...opts, started }, display).finally(() => running.delete(done));
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
  const summary = await writeSummary(outDir, {
    seeds: opts.seeds,
    failures,
    experts: opts.experts,
  });
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
async function runOne(
  job: SeedJob,
  opts: ChildrenOptions & { started: () => void },
  display: Progress,
): Promise<void> {
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
    opts.started();
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
