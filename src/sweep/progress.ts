/**
 * The combined progress display of `train --seeds` (a live line on a terminal, else a
 * line per event), and the state of each seed's child process it shows.
 *
 * @module
 */

import { join } from "node:path";
import { readJsonFile } from "./seed_dirs.ts";

/** Where one seed of a `train --seeds` job is. */
export type SeedState = "queued" | "running" | "finished" | "failed" | "interrupted";

/** One seed's child process, as the runner and the display see it. */
export interface SeedJob {
  /** The training seed. */
  seed: number;
  /** Its run folder, `<out-dir>/seed_N`. */
  dir: string;
  /** Where it is. */
  state: SeedState;
  /** The child process, once started. */
  child: Deno.ChildProcess | null;
  /** Episodes done, from the seed's metrics.json. */
  episode: number;
  /** When it was started (ms since the epoch). */
  startedAt: number;
  /** Modification time of the metrics.json last read (ms). */
  metricsMtime: number;
  /** Last lines the child wrote to stderr. */
  stderrTail: string;
  /** The child's exit code, once ended. */
  code: number | null;
}

/**
 * The line of a child's stderr that says what went wrong: its "error: ..." line, else
 * its last line (colour codes removed).
 *
 * @example
 * ```ts
 * errorLine("Task train\nerror: --lr: bad\n"); // "error: --lr: bad"
 * ```
 */
export function errorLine(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.find((l) => l.startsWith("error: ")) ?? lines.at(-1) ?? "";
}

/**
 * The combined progress display: a live line on a terminal, else one line per event
 * (a seed started, finished, failed; every 10% of the whole job).
 */
export class Progress {
  /** Whether the display is a live line (stderr is a terminal and not --quiet). */
  readonly live: boolean;
  #jobs: SeedJob[];
  #total: number;
  #quiet: boolean;
  #t0 = Date.now();
  #lastDecile = 0;

  /** A display of `opts.jobs`, each `opts.totalEpisodes` long. */
  constructor(opts: { jobs: SeedJob[]; totalEpisodes: number; quiet: boolean; outDir: string }) {
    this.#jobs = opts.jobs;
    this.#total = opts.totalEpisodes;
    this.#quiet = opts.quiet;
    this.live = !opts.quiet && Deno.stderr.isTerminal();
  }

  /** Prints a line above the live line (nothing with --quiet). */
  note(line: string): void {
    if (this.#quiet) return;
    if (this.live) this.#write(`\r\x1b[K${line}\n`);
    else console.error(line);
    if (this.live) this.#draw();
  }

  /** Says that `job` started. */
  started(job: SeedJob): void {
    if (!this.live) this.note(`seed ${job.seed}: started`);
  }

  /** Says how `job` ended (a failure even with --quiet). */
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

  /** Clears the live line. */
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
