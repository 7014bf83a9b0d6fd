/**
 * The run's scalars for TensorBoard and as `progress.csv`: one logging point per
 * `metrics.json` entry, at the run's env steps when the entry's iteration ended, under
 * Stable-Baselines3's tags where one exists (`rollout/ep_rew_mean`, `train/approx_kl`,
 * `eval/mean_reward`, ...) and `eval/<summary key>` for the env's logged metrics. The
 * tags and what each holds: `docs/reference.md` ("TensorBoard and progress.csv").
 *
 * The scalars are a view of `metrics.json`, so a fault writing them (a full disk, say)
 * does not end the run: one warning, and the run goes on without them.
 *
 * @module
 */

import { join } from "node:path";
import { firstLine, UserError } from "../errors.ts";
import { FileReadError, lastEventSteps, ProgressCsvWriter, ScalarEventWriter } from "../io/mod.ts";
import type { MetricsEntry, RunLog } from "./run_log.ts";
import type { EntryPoint } from "./schedule.ts";

/** The file of the scalars as a table, in the run folder. */
export const PROGRESS_CSV_FILE = "progress.csv";

/** The tag (and `progress.csv` column) of each point's step: the run's env steps. */
export const STEP_TAG = "time/total_timesteps";

/** What {@linkcode entryScalars} writes besides the entry. */
export interface ScalarContext {
  /** The env has a goal: the success rates are written (else left out). */
  hasSuccess: boolean;
  /** The run's env steps at the entry (the point's step). */
  envSteps: number;
  /** The learning rate of the entry's update, when known. */
  learningRate?: number;
  /** Env steps per second of this process, when known. */
  fps?: number;
}

/**
 * The scalars of one `metrics.json` entry, by tag, in the order `progress.csv` takes
 * them. `train/entropy_loss` is minus the entropy (SB3's sign).
 *
 * @example
 * ```ts ignore
 * entryScalars(entry, { hasSuccess: true, envSteps: 640 })["rollout/ep_rew_mean"]; // entry.mean_reward
 * ```
 */
export function entryScalars(entry: MetricsEntry, ctx: ScalarContext): Record<string, number> {
  const { update, heldout } = entry;
  const out: Record<string, number> = {
    "rollout/ep_rew_mean": entry.mean_reward,
    "rollout/ep_len_mean": entry.mean_length,
  };
  if (ctx.hasSuccess) out["rollout/success_rate"] = entry.success_rate;
  out["rollout/delta_norm_mean"] = entry.eval.mean_delta_norm;
  out["train/approx_kl"] = update.kl;
  out["train/clip_fraction"] = update.clip_fraction;
  out["train/entropy_loss"] = -update.entropy;
  out["train/policy_gradient_loss"] = update.policy_loss;
  out["train/value_loss"] = update.value_loss;
  out["train/explained_variance"] = update.explained_variance;
  if (ctx.learningRate !== undefined) out["train/learning_rate"] = ctx.learningRate;
  out["eval/mean_reward"] = heldout.return_mean;
  if (ctx.hasSuccess) out["eval/success_rate"] = heldout.success_rate;
  for (const [key, value] of Object.entries(heldout)) {
    if (key !== "return_mean" && key !== "success_rate") out[`eval/${key}`] = value;
  }
  if (ctx.fps !== undefined) out["time/fps"] = ctx.fps;
  out["time/episodes"] = entry.episode;
  out[STEP_TAG] = ctx.envSteps;
  return out;
}

/** Options of {@linkcode RunScalars.open}. */
export interface RunScalarsOptions {
  /** The env steps of the checkpoint the run resumes from in this folder, or null. */
  resumeStep: number | null;
  /** The env has a goal (success rates written). */
  hasSuccess: boolean;
  /** Said once when a write fails (the scalars stop there). */
  warn: (line: string) => void;
}

/**
 * The run folder's TensorBoard event file and `progress.csv`, written at each
 * `metrics.json` entry. A resumed run in its own folder keeps the points up to its
 * checkpoint's env steps and drops the later ones, which it logs again.
 */
export class RunScalars {
  readonly #events: ScalarEventWriter;
  readonly #csv: ProgressCsvWriter;
  readonly #opts: RunScalarsOptions;
  #failed = false;

  private constructor(events: ScalarEventWriter, csv: ProgressCsvWriter, opts: RunScalarsOptions) {
    this.#events = events;
    this.#csv = csv;
    this.#opts = opts;
  }

  /**
   * Opens the scalars of the run folder `dir`: new files, or with `opts.resumeStep` the
   * folder's files cut after that step. Existing files are all read and checked
   * before either is changed ({@linkcode RunScalars.check}).
   *
   * @example
   * ```ts ignore
   * const scalars = await RunScalars.open(runDir, { resumeStep: null, hasSuccess: true, warn });
   * ```
   */
  static async open(dir: string, opts: RunScalarsOptions): Promise<RunScalars> {
    const { resumeStep } = opts;
    const csvPath = join(dir, PROGRESS_CSV_FILE);
    if (resumeStep === null) {
      const events = await ScalarEventWriter.create(dir);
      return new RunScalars(events, await ProgressCsvWriter.create(csvPath), opts);
    }
    await RunScalars.check(dir, resumeStep); // both read and checked before either is cut
    const csv = await ProgressCsvWriter.create(csvPath, {
      resume: { stepKey: STEP_TAG, resumeStep },
    });
    try {
      return new RunScalars(await ScalarEventWriter.resume(dir, { resumeStep }), csv, opts);
    } catch (e) {
      await csv.close();
      throw e;
    }
  }

  /**
   * Reads and checks the scalars of the run folder `dir` that a resume from the
   * checkpoint of env steps `resumeStep` keeps, writing nothing: an event file or
   * `progress.csv` that is corrupt or over a limit is a `UserError` (exit 2) that says
   * how to resume without it.
   *
   * @example
   * ```ts ignore
   * await RunScalars.check("out/run", 12_800);
   * ```
   */
  static async check(dir: string, resumeStep: number): Promise<void> {
    try {
      await lastEventSteps(dir);
      await ProgressCsvWriter.kept(join(dir, PROGRESS_CSV_FILE), { stepKey: STEP_TAG, resumeStep });
    } catch (e) {
      if (!(e instanceof FileReadError)) throw e;
      throw new UserError(
        `${e.message}; the run's scalars cannot be resumed: move the file out of the folder to resume without it`,
      );
    }
  }

  /**
   * Writes the entries of `log` the files lack (a run resumed into another folder, or
   * one whose folder had none): their scalars from `metrics.json`'s numbers, each at the
   * env steps of its episode (`envStepsNow` less the lengths of the episodes since),
   * without the learning rate and speed, which no entry records.
   */
  async backfill(log: RunLog, opts: { episode: number; envStepsNow: number }): Promise<void> {
    // each file from the step after its last one (either may be missing or shorter)
    const from = (step: number | undefined) => step === undefined ? 0 : step + 1;
    const eventsFrom = from(this.#events.lastStep(STEP_TAG)), csvFrom = from(this.#csv.lastStep);
    let steps = opts.envStepsNow, episode = opts.episode;
    const points: [MetricsEntry, number][] = [];
    for (const entry of [...log.metrics].reverse()) {
      for (; episode > entry.episode; episode--) steps -= log.lengths[episode - 1];
      if (!Number.isSafeInteger(steps) || steps < Math.min(eventsFrom, csvFrom)) break;
      points.unshift([entry, steps]);
    }
    for (const [entry, envSteps] of points) {
      const scalars = entryScalars(entry, { hasSuccess: this.#opts.hasSuccess, envSteps });
      const to = { events: envSteps >= eventsFrom, csv: envSteps >= csvFrom };
      if (!this.#write(scalars, to)) return;
    }
    await this.#flush();
  }

  /** Writes the scalars of a new entry, made at `at`, with this process's speed `fps`. */
  async add(entry: MetricsEntry, opts: { at: EntryPoint; fps: number }): Promise<void> {
    const { at, fps } = opts;
    const scalars = entryScalars(entry, {
      hasSuccess: this.#opts.hasSuccess,
      envSteps: at.envSteps,
      learningRate: at.learningRate,
      fps,
    });
    if (this.#write(scalars)) await this.#flush();
  }

  /** Closes both files (a failure to write their last points is the warning, once). */
  async close(): Promise<void> {
    for (const file of [this.#events, this.#csv]) {
      try {
        await file.close(); // closes the file even when its last write fails
      } catch (e) {
        if (!this.#failed) this.#fail(e);
      }
    }
  }

  // Adds one point to both files, or those of `to` (written at the next flush); false once
  // failed.
  #write(scalars: Record<string, number>, to = { events: true, csv: true }): boolean {
    if (this.#failed) return false;
    try {
      if (to.events) this.#events.add(scalars[STEP_TAG], scalars);
      if (to.csv) this.#csv.add(scalars);
    } catch (e) {
      this.#fail(e);
    }
    return !this.#failed;
  }

  async #flush(): Promise<void> {
    if (this.#failed) return;
    try {
      await this.#events.flush();
      await this.#csv.flush();
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    this.#failed = true;
    this.#opts.warn(
      `the TensorBoard scalars and ${PROGRESS_CSV_FILE} stop here (${
        firstLine(e)
      }); metrics.json goes on`,
    );
  }
}
