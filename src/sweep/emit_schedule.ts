/**
 * The scheduling settings of emitted job files (`train --seeds ... --emit`): time limit,
 * memory, partition or queue, account, CPUs per task, retries and extra `#SBATCH`
 * arguments, parsed and checked from their flags.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { checkPrintable } from "./_quote.ts";

/** How each task of an emitted job is scheduled. */
export interface ScheduleOptions {
  /** `--time`: the time limit of one task, seconds; null: the scheduler's default. */
  time: number | null;
  /** `--mem`: memory of one task, MiB (Slurm `--mem`, Kubernetes request and limit, Ray). */
  memMiB: number;
  /** `--partition`: Slurm partition, or the Kueue queue of the Kubernetes Job. */
  partition: string | null;
  /** `--account`: Slurm account. */
  account: string | null;
  /** `--cpus-per-task`: CPUs of one task. */
  cpus: number;
  /** `--retries`: runs of a failed task again (Kubernetes per index, Ray per task). */
  retries: number;
  /** `--sbatch-arg` (repeatable): more `#SBATCH` arguments, after ours. */
  sbatchArgs: string[];
  /** Seconds before the time limit the task gets SIGTERM (it saves a checkpoint). */
  signalLead: number;
}

/** The job-file flags, for `train --help`. */
export const SCHEDULE_FLAGS = [
  "time",
  "mem",
  "partition",
  "account",
  "cpus-per-task",
  "retries",
  "sbatch-arg",
] as const;

/** Defaults of {@linkcode ScheduleOptions}. */
export const DEFAULT_SCHEDULE: Readonly<ScheduleOptions> = Object.freeze({
  time: null,
  memMiB: 2048,
  partition: null,
  account: null,
  cpus: 1,
  retries: 3,
  sbatchArgs: [],
  signalLead: 180,
});

/**
 * The scheduling options of the job-file flags in `own` (`--sbatch-arg` values joined
 * by NUL characters); a bad value is a one-line {@linkcode UserError}.
 *
 * @example
 * ```ts
 * parseSchedule(new Map([["time", "1-12:00:00"], ["mem", "4G"]])).time; // 129600
 * ```
 */
export function parseSchedule(own: Map<string, string>): ScheduleOptions {
  const s: ScheduleOptions = { ...DEFAULT_SCHEDULE, sbatchArgs: [] };
  const time = own.get("time");
  if (time !== undefined) s.time = parseTime(time);
  const mem = own.get("mem");
  if (mem !== undefined) s.memMiB = parseMem(mem);
  for (const key of ["partition", "account"] as const) {
    const v = own.get(key);
    if (v === undefined) continue;
    if (!/^[A-Za-z0-9_.,-]{1,63}$/.test(v)) {
      throw new UserError(
        `--${key}: '${v}' is not a name (letters, digits, _ . , - only, at most 63)`,
      );
    }
    s[key] = v;
  }
  const cpus = own.get("cpus-per-task");
  if (cpus !== undefined) s.cpus = int("--cpus-per-task", cpus, 1, 1024);
  const retries = own.get("retries");
  if (retries !== undefined) s.retries = int("--retries", retries, 0, 100);
  for (const arg of own.get("sbatch-arg")?.split("\0") ?? []) {
    checkPrintable("--sbatch-arg", arg);
    if (!arg.startsWith("-")) {
      throw new UserError(`--sbatch-arg: '${arg}' is not an sbatch option (e.g. --qos=high)`);
    }
    s.sbatchArgs.push(arg);
  }
  if (s.time !== null && s.time <= s.signalLead) {
    throw new UserError(
      `--time: ${time} is not longer than the ${s.signalLead} s before the limit when a task is told to save and stop`,
    );
  }
  return s;
}

function int(flag: string, text: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(text) || Number(text) < lo || Number(text) > hi) {
    throw new UserError(`${flag}: expected an integer from ${lo} to ${hi}, got '${text}'`);
  }
  return Number(text);
}

// Slurm's forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
function parseTime(text: string): number {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) {
    throw new UserError(
      `--time: '${text}' is not a time limit (minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S)`,
    );
  }
  const [d, a, b, c] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? null : Number(x)));
  let seconds: number;
  if (d !== null) seconds = d * 86400 + a! * 3600 + (b ?? 0) * 60 + (c ?? 0);
  else if (c !== null) seconds = a! * 3600 + b! * 60 + c;
  else if (b !== null) seconds = a! * 60 + b;
  else seconds = a! * 60;
  if (!(seconds >= 1 && seconds <= 365 * 86400)) {
    throw new UserError(`--time: '${text}' is out of range (1 s to 365 days)`);
  }
  return seconds;
}

function parseMem(text: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(text);
  const scale: Record<string, number> = { "": 1, K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };
  const mib = m ? Math.ceil(Number(m[1]) * scale[m[2].toUpperCase()]) : NaN;
  if (!(mib >= 64 && mib <= 16 * 1024 * 1024)) {
    throw new UserError(`--mem: '${text}' is not a memory size from 64M to 16T (e.g. 2G, 512M)`);
  }
  return mib;
}

/**
 * Seconds as Slurm's `D-HH:MM:SS`.
 *
 * @example
 * ```ts
 * slurmTime(129600); // "1-12:00:00"
 * ```
 */
export function slurmTime(seconds: number): string {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d}-${two(h)}:${two(m)}:${two(s)}`;
}

/** What every emitted job runs. */
export interface EmitJob {
  /** The seeds; task i runs `seeds[i]`. */
  seeds: number[];
  /** The `--seeds` list as given (digits, commas and dashes only). */
  list: string;
  /** `--out-dir` as given: the shared multi-seed folder. */
  outDir: string;
  /** The other train flags, as given. */
  flags: string[];
  /** Tasks at a time (`--jobs`); null: as many as the scheduler allows. */
  jobs: number | null;
  /** The command that starts this program here, e.g. ["/usr/bin/deno", "run", ..., "main.ts"]. */
  program: string[];
  /** Working folder the tasks run in (where relative paths in the flags resolve). */
  cwd: string;
  /** How each task is scheduled (time, memory, partition, ...). */
  schedule: ScheduleOptions;
}
