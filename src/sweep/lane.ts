/**
 * One seed of a multi-seed job, trained in this process exactly as `train --seed N
 * --out-dir <out-dir>/seed_N` trains it (the same folder, the same numbers): the run
 * of the job's configuration with that seed, through the single-run entry point
 * `runTraining`. A lane (a child of `train --seeds`) trains the seeds its parent writes
 * to its stdin, one after the other; a cluster task (`--task-index`) trains one.
 *
 * @module
 */

import { join } from "node:path";
import { EXIT, reportError, UserError } from "../errors.ts";
import { runTraining } from "../run/mod.ts";
import type { TrainingRequest } from "../run/mod.ts";
import { seedEndMarker } from "./children.ts";
import { readManifest, seedDir, writeManifest } from "./seed_dirs.ts";
import { seedState } from "./seed_state.ts";

/**
 * Trains seed `opts.seed` of the job whose runs `base` describes into
 * `<opts.outDir>/seed_N`; returns the run's exit code. Running it again just works
 * ({@linkcode seedState}): a finished run is left as it is (exit 0, nothing written), a
 * stopped or killed one resumes from its newest valid checkpoint, anything else
 * starts; with `--overwrite` the seed starts afresh (replacing its old run once the new
 * one is complete).
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
  const request = { ...base, run, quiet: opts.quiet, outDirNamed: true };
  if (base.overwrite) return await runTraining(request);
  const state = await seedState(run, {
    definition: base.env.definition,
    warn: (line) => console.error(line),
    resumeCommand: base.resumeCommand,
  });
  const say = (line: string) => console.error(`train: seed ${opts.seed}: ${line}`);
  switch (state.kind) {
    case "finished":
      say(`${run.out_dir} holds the finished run; nothing to do`);
      return 0;
    case "resume":
      say(`resuming from ${state.point.path} (episode ${state.point.episode})`);
      run.ppo.resume = state.point.path;
      return await runTraining({ ...request, point: state.point });
    case "restart":
      say(`starting again (${state.why})`);
      return await runTraining({ ...request, overwrite: true });
    case "new":
      return await runTraining(request);
  }
}

/**
 * One task of a cluster job (`train --seeds LIST --task-index I`): seed number I of the
 * job's list trained ({@linkcode trainSeed}, so a task run again resumes or does
 * nothing), with everything it prints also appended to `<out-dir>/logs/seed_N.log`. The
 * job's `seeds.json` is written into the folder the tasks share if it is not there (a
 * folder holding another job's is refused). Returns the exit code.
 *
 * @example
 * ```ts ignore
 * const code = await runSeedTask(base, { job, index: 0 });
 * ```
 */
export async function runSeedTask(
  base: TrainingRequest,
  opts: { job: { seeds: number[]; list: string; outDir: string; flags: string[] }; index: number },
): Promise<number> {
  const { seeds, list, outDir, flags } = opts.job;
  const seed = seeds[opts.index];
  const manifest = readManifest(outDir);
  if (manifest !== null && manifest.seeds.join(",") !== seeds.join(",")) {
    throw new UserError(
      `--out-dir ${outDir} holds a multi-seed job of seeds ${manifest.list}, not ${list}; choose another folder`,
    );
  }
  Deno.mkdirSync(join(outDir, "logs"), { recursive: true });
  if (manifest === null) await writeManifest(outDir, { seeds, list, flags });
  return await withLog(join(outDir, "logs", `seed_${seed}.log`), async () => {
    try {
      return await trainSeed(base, { outDir, seed, quiet: base.quiet });
    } catch (e) {
      return reportError(e);
    }
  });
}

// Runs `f` with what console.log and console.error print also appended to `path`.
async function withLog(path: string, f: () => Promise<number>): Promise<number> {
  const file = await Deno.open(path, { append: true, create: true });
  const encoder = new TextEncoder();
  const original = { log: console.log, error: console.error };
  const tee = (print: (...args: unknown[]) => void) => (...args: unknown[]) => {
    print(...args);
    try {
      file.writeSync(encoder.encode(args.map(String).join(" ") + "\n"));
    } catch {
      // the log is a copy: its faults never stop the run
    }
  };
  console.log = tee(original.log);
  console.error = tee(original.error);
  try {
    return await f();
  } finally {
    console.log = original.log;
    console.error = original.error;
    file.close();
  }
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
  // stdin is read all along: when it closes during a seed, the parent is gone (killed,
  // even with SIGKILL), and the seed stops as for SIGTERM, saving its checkpoint
  const queue: number[] = [];
  let closed = false;
  let wake = () => {};
  (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of Deno.stdin.readable) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (/^\d+$/.test(line)) queue.push(Number(line));
        }
        wake();
      }
    } catch {
      // a broken pipe is a closed one
    }
    closed = true;
    wake();
  })();
  const request = { ...base, orphaned: () => closed };
  const encoder = new TextEncoder();
  for (;;) {
    while (queue.length === 0 && !closed) await new Promise<void>((r) => wake = r);
    const seed = queue.shift();
    if (seed === undefined) return 0;
    let code: number;
    try {
      code = await trainSeed(request, { outDir, seed, quiet: true });
    } catch (e) {
      code = reportError(e);
    }
    const marker = encoder.encode(seedEndMarker(seed, code));
    try {
      for (const stream of [Deno.stdout, Deno.stderr]) {
        for (let at = 0; at < marker.length;) at += stream.writeSync(marker.subarray(at));
      }
    } catch {
      return code; // the parent is gone
    }
    if (code === EXIT.sigint || code === EXIT.sigterm || closed) return code;
  }
}
