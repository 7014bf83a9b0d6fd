/**
 * A multi-seed job (`train --seeds LIST`): independent runs of the same configuration,
 * one per seed, into `<out-dir>/seed_N/`. Run here, each seed is trained by a child
 * process of this same program (`children.ts`), so a seed's folder is exactly that
 * single run's; up to `--jobs` at a time, then `summary.json` and a table
 * (`summary.ts`). Emitted instead, the job is Slurm / Kubernetes / Ray files whose tasks
 * each train one seed (`emit.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEBUG_ENV, UserError } from "../errors.ts";
import { NO_SIMD_VAR } from "../math/mod.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import { existingRunFiles } from "../io/mod.ts";
import type { EnvChoice } from "../env/mod.ts";
import { plannerFromFile, runSettings } from "../run/mod.ts";
import type { RunConfig } from "../run/mod.ts";
import { parseEmitTargets, writeEmitted } from "./emit.ts";
import { readManifest, seedDir, writeManifest } from "./seed_dirs.ts";
import { runChildren } from "./children.ts";
import { expertReturn } from "./expert_returns.ts";
import type { ExpertReturns } from "./expert_returns.ts";

/** Where `train --seeds` writes without `--out-dir`. */
export const DEFAULT_SEEDS_OUT_DIR = "out/rl_delta_waypoint_v0/seeds";

/** A multi-seed job, as `train --seeds` was asked for it. */
export interface SeedsJob {
  /** The seeds, in task-index order. */
  seeds: number[];
  /** The `--seeds` list as given. */
  list: string;
  /** The multi-seed folder. */
  outDir: string;
  /** The `train` flags every seed's run gets, as given (without `--out-dir` and the job's own). */
  flags: string[];
  /**
   * Seeds trained at a time (`--jobs`); null: as many as there are cores (or as the
   * scheduler allows).
   */
  jobs: number | null;
  /** The configuration every seed's run has (the seed and the folder aside). */
  run: RunConfig;
  /** The env the seeds train on, as the command line named it. */
  env: EnvChoice;
  /** `--overwrite`: replace a job already in the folder, and each seed's run. */
  overwrite: boolean;
  /** `--quiet`: no progress output. */
  quiet: boolean;
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
 * `deno compile`, else Deno running `main.ts` with the permissions a `train` run on
 * `env` needs (read, write, the program's environment switches that this process may
 * read; running the Python worker for `gym:ID`; importing an https module env).
 *
 * @example
 * ```ts
 * const [program, ...prefix] = selfCommand();
 * ```
 */
export function selfCommand(env?: EnvChoice): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const extra = env?.kind === "gym"
    ? ["--allow-run"]
    : env?.kind === "module" && /^https?:/.test(env.spec)
    ? [`--allow-import=${new URL(env.spec).host}`]
    : [];
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  // The program's own environment switches, as far as this process may read them.
  const vars = [DEBUG_ENV, NO_SIMD_VAR].filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted"
  );
  const allowEnv = vars.length > 0 ? [`--allow-env=${vars.join(",")}`] : [];
  return [
    Deno.execPath(),
    "run",
    V8_FLAGS,
    "--allow-read",
    "--allow-write",
    ...allowEnv,
    ...extra,
    main,
  ];
}

/**
 * Writes the job's cluster files for the schedulers `targets` names (e.g. "slurm,k8s")
 * and its `seeds.json` into the job's folder, and prints their paths; nothing is run
 * or submitted. Returns the exit code.
 *
 * @example
 * ```ts ignore
 * await emitSeedsJob(job, "slurm,k8s,ray");
 * ```
 */
export async function emitSeedsJob(job: SeedsJob, targets: string): Promise<number> {
  const { seeds, list, outDir, flags, jobs } = job;
  checkOutDir(outDir, { seeds, overwrite: job.overwrite });
  // Paths in the flags are the cluster's: an --sft-model need not exist here.
  const schedulers = parseEmitTargets(targets);
  const program = selfCommand(job.env);
  const emit = { seeds, list, outDir, flags, jobs, program, cwd: Deno.cwd() };
  const paths = await writeEmitted(schedulers, { job: emit, overwrite: job.overwrite });
  await writeManifest(outDir, { seeds, list, flags });
  for (const p of paths) console.log(p);
  console.error(
    `train: wrote ${paths.length} job file${
      paths.length === 1 ? "" : "s"
    } for ${seeds.length} seeds; nothing was submitted (see the comment at the top of each)`,
  );
  return 0;
}

/**
 * Runs every seed of the job, each in a child process of this program, `job.jobs` at a
 * time (default: the number of cores); writes `summary.json` and prints its table.
 * Returns the exit code: 0 when every seed finished, 130 when interrupted, else the
 * first failing seed's code.
 *
 * @example
 * ```ts ignore
 * await runSeedsJob(job);
 * ```
 */
export async function runSeedsJob(job: SeedsJob): Promise<number> {
  const { seeds, list, outDir, flags, run } = job;
  checkOutDir(outDir, { seeds, overwrite: job.overwrite });
  const env = { definition: job.env.definition, settings: runSettings(run, job.env.definition) };
  // Once here rather than failing in every seed.
  if (run.sft_model !== null) await plannerFromFile(run.sft_model, env);
  const program = selfCommand(job.env);
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
      expertReturn(experts, { ...env, heldout });
    },
    experts,
    seeds,
    outDir,
    program,
    // every seed's run is quiet; the job shows its own progress
    flags: flags.filter((f) => f !== "--quiet"),
    jobs: job.jobs ?? Math.max(1, navigator.hardwareConcurrency || 1),
    totalEpisodes: run.ppo.episodes,
    quiet: job.quiet,
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
