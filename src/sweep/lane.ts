/**
 * One seed of a multi-seed job, trained in this process exactly as `train --seed N
 * --out-dir <out-dir>/seed_N` trains it (the same folder, the same numbers): the run
 * of the job's configuration with that seed, through the single-run entry point
 * `runTraining`. A lane (a child of `train --seeds`) trains the seeds its parent writes
 * to its stdin, one after the other; a cluster task (`--task-index`) trains one.
 *
 * @module
 */

import { EXIT, reportError } from "../errors.ts";
import { runTraining } from "../run/mod.ts";
import type { TrainingRequest } from "../run/mod.ts";
import { seedEndMarker } from "./children.ts";
import { seedDir } from "./seed_dirs.ts";

/**
 * Trains seed `opts.seed` of the job whose runs `base` describes into
 * `<opts.outDir>/seed_N`; returns the run's exit code.
 *
 * @example
 * ```ts ignore
 * const code = await trainSeed(base, { outDir: "out/seeds", seed: 3, quiet: true });
 * ```
 */
export async function trainSeed(
  base: TrainingRequest,
  opts: { outDir: string; seed: number; quiet: boolean },
): Promise<number> {
  const run = structuredClone(base.run);
  run.out_dir = seedDir(opts.outDir, opts.seed);
  run.ppo.seed = opts.seed;
  return await runTraining({ ...base, run, quiet: opts.quiet, outDirNamed: true });
}

/**
 * A lane's loop: each seed its parent names on stdin (one per line) is trained in this
 * process into `<outDir>/seed_N` ({@linkcode trainSeed}, quietly), then marked done on
 * stdout and stderr with its exit code ({@linkcode seedEndMarker}). Ends when stdin
 * closes, or after a seed stopped by a signal (which the parent passed on to this
 * process).
 *
 * @example
 * ```ts ignore
 * await trainSeedsFromStdin(base, "out/seeds");
 * ```
 */
export async function trainSeedsFromStdin(
  base: TrainingRequest,
  outDir: string,
): Promise<number> {
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
        code = await trainSeed(base, { outDir, seed, quiet: true });
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
